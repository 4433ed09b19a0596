import { describe, expect, it } from 'vitest';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import { positionIdOf } from '#core/keys.js';
import type { SuspectRecord } from '#core/types.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { memoryDeps } from '#test/support/memory-deps.js';
import { suspect, T0, tracked } from '#test/support/records.js';

/**
 * A suspect the exchange never decides (gone from every list, flat by symbol, but no close in its
 * history) must not cost a full proof every minute for ever: after `stuckAfterAttempts` attempts or
 * `stuckAfterMs` it is stuck, alarmed once, and looked at every `stuckLookMs`. Its orders are kept.
 */
function rig(initial: SuspectRecord) {
  let now = initial.nextAttemptAt;
  const store = new MemoryStore();
  const queue = new MemoryQueue({ now: () => now });
  const telemetry = new MemoryTelemetry();
  const cancelled: string[] = [];
  const exchange: ExchangeSession = {
    fetchOpenPositions: async () => ({
      status: 'complete',
      snapshotId: `snap-${now}`,
      fetchedAt: now,
      pages: 1,
      positions: [],
    }),
    recheckSymbol: async () => ({ status: 'listed', checkedAt: now, open: [], flat: [0] }),
    fetchPositionChanges: async (positions) =>
      new Map(
        positions.map(
          (p) =>
            [
              positionIdOf(p),
              { status: 'known', searchedFrom: p.stateUpdatedAt, searchedTo: now, changes: [] },
            ] as const,
        ),
      ),
    fetchProtectiveOrders: async () => ({ status: 'known', orders: [...initial.position.protectiveOrders] }),
    cancelOrder: async (_s, orderId) => {
      cancelled.push(orderId);
      return { status: 'cancelled', orderId };
    },
    placeStop: async () => ({ status: 'failed', detail: 'no stop is placed in a confirmation' }),
  };
  const deps = memoryDeps(() => now, exchange, {
    ids: { next: (p) => `${p}-${now}` },
    store,
    queue,
    telemetry,
  });
  return {
    store,
    telemetry,
    cancelled,
    /** Delivers the suspect's pending confirmation when it is due; returns the delay it was sent with. */
    async attempt(): Promise<number> {
      const due = queue.nextDueAt();
      if (due === undefined) throw new Error('no confirmation pending');
      now = Math.max(now, due);
      for (const { message } of queue.takeDue(now)) {
        if (message.type === 'confirm') await runConfirm(deps, message);
      }
      return (queue.nextDueAt() ?? now) - now;
    },
    async start(): Promise<void> {
      await store.upsertTracked([initial.position]);
      await store.createSuspect(initial);
      await queue.sendConfirm(
        {
          type: 'confirm',
          accountId: initial.accountId,
          symbol: initial.symbol,
          positionIdx: initial.positionIdx,
          attempt: initial.attempts,
        },
        0,
      );
    },
  };
}

const undecided = (over: Partial<SuspectRecord>) =>
  suspect({ position: tracked(), firstMissingAt: T0, nextAttemptAt: T0 + 600_000, ...over });

describe('a suspect nothing decides', () => {
  it('becomes stuck after stuckAfterAttempts: alarmed once, then looked at every 15 minutes, its orders kept', async () => {
    const r = rig(undecided({ attempts: defaultSettings.stuckAfterAttempts - 2 }));
    await r.start();
    // Not stuck yet: the ordinary back-off, at most a minute.
    expect(await r.attempt()).toBeLessThanOrEqual(defaultSettings.maxRetryDelayMs);
    expect(r.telemetry.countOf(Metric.SuspectsStuck)).toBe(0);
    // The attempt that reaches the bound.
    expect(await r.attempt()).toBe(defaultSettings.stuckLookMs);
    const [stored] = (await r.store.loadAccountView('acct-1')).suspects;
    expect(stored?.stuckSince).toBeDefined();
    expect(r.telemetry.countOf(Metric.SuspectsStuck)).toBe(1);
    // Later looks keep the slow pace and raise no second alarm.
    expect(await r.attempt()).toBe(defaultSettings.stuckLookMs);
    expect(await r.attempt()).toBe(defaultSettings.stuckLookMs);
    expect(r.telemetry.countOf(Metric.SuspectsStuck)).toBe(1);
    expect(r.cancelled).toEqual([]);
  });

  it('becomes stuck after stuckAfterMs however few its attempts, and says so naming it', async () => {
    const r = rig(undecided({ attempts: 2, firstMissingAt: T0 + 600_000 - defaultSettings.stuckAfterMs }));
    await r.start();
    expect(await r.attempt()).toBe(defaultSettings.stuckLookMs);
    const line = r.telemetry.lines.find((l) => l.fields?.decision === 'suspect-stuck');
    expect(line?.level).toBe('error');
    expect(line?.message).toMatch(
      /^STUCK: BTCUSDT#0 on acct-1 is still undecided after 3 attempts over 60 min \(last: .*no close event/,
    );
    expect(line?.message).toMatch(
      /looked at every 15 min until evidence arrives or an operator retries or forgets it$/,
    );
  });

  it("after an operator's retry counts its bounds afresh: minute-apart looks again, no second alarm yet", async () => {
    const r = rig(undecided({ attempts: 40, stuckCountFrom: { attempts: 40, at: T0 + 590_000 } }));
    await r.start();
    expect(await r.attempt()).toBeLessThanOrEqual(defaultSettings.maxRetryDelayMs);
    expect(r.telemetry.countOf(Metric.SuspectsStuck)).toBe(0);
  });
});
