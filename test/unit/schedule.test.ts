import { describe, expect, it } from 'vitest';
import { MemoryAccounts } from '../../functions/adapters/memory/memory-accounts.js';
import { MemoryCap } from '../../functions/adapters/memory/memory-cap.js';
import { MemoryQueue } from '../../functions/adapters/memory/memory-queue.js';
import { MemoryStore } from '../../functions/adapters/memory/memory-store.js';
import { MemoryAudit, MemoryTelemetry } from '../../functions/adapters/memory/memory-telemetry.js';
import type { ReconcilerDeps } from '../../functions/orchestration/dependencies.js';
import { runSchedule, spreadOffset } from '../../functions/orchestration/schedule.js';
import { defaultSettings } from '../../functions/orchestration/settings.js';
import type { AccountRecord } from '../../functions/ports/accounts.js';
import type { WorkQueue } from '../../functions/ports/queue.js';

const MINUTE = 60_000;
const account = (accountId: string, enabled = true): AccountRecord => ({
  accountId,
  enabled,
  credentialsRef: `stopguard/${accountId}`,
  exchange: { category: 'linear', settleCoins: ['USDT'] },
});

function depsAt(now: number, accounts: MemoryAccounts, queue: WorkQueue): ReconcilerDeps {
  return {
    clock: { now: () => now },
    ids: { next: (p) => `${p}-1` },
    accounts,
    store: new MemoryStore(),
    cap: new MemoryCap({ perAccount: 10, global: 50, windowMs: MINUTE }),
    queue,
    audit: new MemoryAudit(),
    telemetry: new MemoryTelemetry(),
    settings: defaultSettings,
    exchangeFor: async () => {
      throw new Error('the scheduler has no exchange');
    },
  };
}

describe('runSchedule', () => {
  const minuteStart = 29_000_000 * MINUTE;

  it('sends one check per cadence slot of the minute per enabled account, each delayed to its slot', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b'), account('off', false)]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    const outcome = await runSchedule(depsAt(minuteStart, accounts, queue));
    expect(outcome).toEqual({ accountsScheduled: 2, accountsAlreadyScheduled: 0, checksSent: 12 });
    const due = queue.takeDue(minuteStart + MINUTE);
    expect(due.filter((m) => m.message.accountId === 'a').map((m) => m.deliverAt - minuteStart)).toEqual(
      Array.from({ length: 6 }, (_, i) => spreadOffset('a', 10_000) + i * 10_000),
    );
  });

  it('sends nothing for a window already scheduled (EventBridge delivers at least once)', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const queue = new MemoryQueue({ now: () => minuteStart });
    await runSchedule(depsAt(minuteStart, accounts, queue), minuteStart);
    // The duplicate carries the same event time, however late it arrives.
    const again = await runSchedule(depsAt(minuteStart + 2_000, accounts, queue), minuteStart);
    expect(again).toEqual({ accountsScheduled: 0, accountsAlreadyScheduled: 1, checksSent: 0 });
    expect(queue.size).toBe(6);
  });

  it('covers every slot exactly once when the rule fires mid-minute (a rate rule keeps its creation second)', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const firstFire = minuteStart + 40_000;
    const queue = new MemoryQueue({ now: () => firstFire });
    const sent: { accountId: string; slot: number }[] = [];
    const recording: WorkQueue = {
      sendChecks: async (checks) => {
        for (const c of checks) sent.push({ accountId: c.message.accountId, slot: c.message.slot });
        await queue.sendChecks(checks);
      },
      sendConfirm: async () => {},
    };
    for (let k = 0; k < 3; k++) {
      const at = firstFire + k * MINUTE;
      await runSchedule(depsAt(at + 300, accounts, recording), at);
    }
    for (const id of ['a', 'b']) {
      const slots = sent.filter((s) => s.accountId === id).map((s) => s.slot);
      // Three minutes of a 10 s cadence: 18 consecutive slots, none twice, none skipped.
      expect(slots).toHaveLength(18);
      expect(new Set(slots).size).toBe(18);
      const first = Math.min(...slots);
      expect([...slots].sort((x, y) => x - y)).toEqual(Array.from({ length: 18 }, (_, i) => first + i));
    }
  });

  it('skips the slots already past when it runs late, instead of firing them at once', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    const late = minuteStart + 45_000;
    const queue = new MemoryQueue({ now: () => late });
    const outcome = await runSchedule(depsAt(late, accounts, queue), minuteStart);
    const offsets = queue.takeDue(late + MINUTE).map((m) => m.deliverAt - late);
    expect(outcome.checksSent).toBe(offsets.length);
    expect(outcome.checksSent).toBeLessThanOrEqual(3);
    // Nothing is more than one cadence late, and nothing lands after the window.
    for (const offset of offsets) expect(offset).toBeGreaterThanOrEqual(0);
    for (const m of offsets) expect(late + m).toBeLessThan(minuteStart + MINUTE + 10_000);
  });

  it('gives the window back when the send fails, so the retried event schedules it', async () => {
    const accounts = new MemoryAccounts([account('a'), account('b')]);
    const failing: WorkQueue = {
      sendChecks: async () => {
        throw new Error('SQS refused 3 of 12 check messages');
      },
      sendConfirm: async () => {},
    };
    await expect(runSchedule(depsAt(minuteStart, accounts, failing), minuteStart)).rejects.toThrow(
      'SQS refused',
    );
    const queue = new MemoryQueue({ now: () => minuteStart });
    const retried = await runSchedule(depsAt(minuteStart + 1_000, accounts, queue), minuteStart);
    expect(retried).toEqual({ accountsScheduled: 2, accountsAlreadyScheduled: 0, checksSent: 12 });
  });

  it('a release that fails too is logged, and the send failure is what surfaces', async () => {
    const accounts = new MemoryAccounts([account('a')]);
    accounts.releaseScheduleWindow = async () => {
      throw new Error('AccessDeniedException');
    };
    const failing: WorkQueue = {
      sendChecks: async () => {
        throw new Error('SQS refused 6 of 6 check messages');
      },
      sendConfirm: async () => {},
    };
    const deps = depsAt(minuteStart, accounts, failing);
    await expect(runSchedule(deps, minuteStart)).rejects.toThrow('SQS refused');
    const telemetry = deps.telemetry as MemoryTelemetry;
    expect(telemetry.lines.some((l) => l.level === 'error' && /could not give window/.test(l.message))).toBe(
      true,
    );
  });
});
