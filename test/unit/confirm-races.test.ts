/** Longer than 400 lines because every race below shares the one scripted world built in `world()`. */
import { describe, expect, it } from 'vitest';
import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import type { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import { positionIdOf } from '#core/keys.js';
import type {
  ObservedPosition,
  OpenProtectiveOrders,
  PositionChange,
  PositionRecheck,
  SymbolRecheck,
} from '#core/types.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { runRegister } from '#orchestration/register.js';
import type { CancelCap } from '#ports/cap.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { fleetBudgetOf } from '#ports/fleet.js';
import { Metric } from '#ports/telemetry.js';
import { memoryDeps } from '#test/support/memory-deps.js';
import { account, order, suspect, T0, tracked } from '#test/support/records.js';

/**
 * The confirmation's edges where another actor moves between its looks and its acts: a check that sees
 * the position open again, the bot registering a reopen, a cap with no budget, shadow accounts sharing
 * the global budget. Memory adapters and a scripted exchange port: pure orchestration, no I/O.
 */
const NOW = T0 + 40_000;
const position = tracked();
const closeFill: PositionChange = {
  id: 'fill-close',
  source: 'execution',
  time: T0 + 20_000,
  closedQty: position.size,
  openedQty: '0',
  kind: 'stop-loss',
};
const observedOpen: ObservedPosition = {
  symbol: position.symbol,
  positionIdx: 0,
  side: 'long',
  size: position.size,
  updatedAt: position.stateUpdatedAt,
  ...(position.stateSequence === undefined ? {} : { sequence: position.stateSequence }),
};
/** A look at the symbol that says, for the one-way leg, what `leg` says. */
function symbolLook(leg: PositionRecheck): SymbolRecheck {
  switch (leg.status) {
    case 'open':
      return { status: 'listed', checkedAt: leg.checkedAt, open: [leg.position], flat: [] };
    case 'flat':
      return { status: 'listed', checkedAt: leg.checkedAt, open: [], flat: [0] };
    case 'absent':
      return { status: 'listed', checkedAt: leg.checkedAt, open: [], flat: [] };
    case 'unknown':
      return { status: 'unknown', checkedAt: leg.checkedAt, open: [], failure: leg.failure };
  }
}

const orphans: OpenProtectiveOrders = {
  status: 'known',
  orders: [order(), order({ orderId: 'tp-1', kind: 'take-profit', triggerPrice: '99000' })],
};

interface World {
  deps: ReconcilerDeps;
  store: MemoryStore;
  telemetry: MemoryTelemetry;
  audit: MemoryAudit;
  cancelled: string[];
  capAsks: number[];
  /** Every exchange call, cap request and claim renewal, in order. */
  calls: string[];
}

async function world(
  options: {
    settings?: Partial<ReconcileSettings>;
    /** Runs after the orders fetch, the last look before the cap and the cancels. */
    between?: (store: MemoryStore) => Promise<void>;
    /** Order ids whose cancel the exchange refuses (a 5xx). */
    failingCancels?: readonly string[];
    /** What the second re-check, the last look before the cancels, answers (default flat). */
    finalRecheck?: PositionRecheck;
    fleet?: MemoryFleetGuard;
  } = {},
): Promise<World> {
  const store = new MemoryStore();
  await store.upsertTracked([position]);
  await store.createSuspect(suspect());
  const telemetry = new MemoryTelemetry();
  const audit = new MemoryAudit();
  const cancelled: string[] = [];
  const capAsks: number[] = [];
  const calls: string[] = [];
  const renew = store.renewClaimBeforeCancel.bind(store);
  store.renewClaimBeforeCancel = (next, current, proven) => {
    calls.push('renew-claim');
    return renew(next, current, proven);
  };
  const memoryCap = new MemoryCap({ perAccount: 10, global: 50, windowMs: 60_000 });
  const cap: CancelCap = {
    acquire: (accountId, slots, now, accountLimit) => {
      capAsks.push(slots);
      calls.push('cap');
      return memoryCap.acquire(accountId, slots, now, accountLimit);
    },
  };
  const exchange: ExchangeSession = {
    fetchOpenPositions: async () => {
      calls.push('list');
      return { status: 'complete', snapshotId: 'snap-3', fetchedAt: NOW, pages: 1, positions: [] };
    },
    recheckSymbol: async () => {
      calls.push('recheck');
      const final = calls.filter((c) => c === 'recheck').length > 1;
      return symbolLook(
        final && options.finalRecheck !== undefined
          ? options.finalRecheck
          : { status: 'flat', checkedAt: NOW },
      );
    },
    fetchPositionChanges: async (positions) => {
      calls.push('history');
      return new Map(
        positions.map((p) => [
          positionIdOf(p),
          { status: 'known', searchedFrom: p.stateUpdatedAt, searchedTo: NOW, changes: [closeFill] } as const,
        ]),
      );
    },
    fetchProtectiveOrders: async (symbols) => {
      // Which symbols the listing must be complete for: a pass asks only for its own.
      calls.push(`orders ${symbols?.join(',') ?? '(whole account)'}`);
      await options.between?.(store);
      return orphans;
    },
    cancelOrder: async (_symbol, orderId) => {
      calls.push(`cancel ${orderId}`);
      if (options.failingCancels?.includes(orderId)) {
        return { status: 'failed', orderId, detail: 'HTTP 503', retryable: true };
      }
      cancelled.push(orderId);
      return { status: 'cancelled', orderId };
    },
    placeStop: async () => ({ status: 'failed', detail: 'no stop is placed in a confirmation' }),
  };
  const deps = memoryDeps(() => NOW, exchange, {
    accounts: new MemoryAccounts([account('acct-1', { settings: options.settings ?? {} })]),
    store,
    cap,
    audit,
    telemetry,
    ...(options.fleet === undefined ? {} : { fleet: options.fleet }),
  });
  return { deps, store, telemetry, audit, cancelled, capAsks, calls };
}

const confirm = {
  type: 'confirm',
  accountId: 'acct-1',
  symbol: 'BTCUSDT',
  positionIdx: 0,
  attempt: 0,
} as const;

describe('runConfirm at its edges', () => {
  it('cancels a proven orphan and forgets the position (the baseline the races below depart from)', async () => {
    const w = await world();
    const outcome = await runConfirm(w.deps, confirm);
    expect(outcome.decided[0]?.decision?.kind).toBe('cancel-orphans');
    expect(w.cancelled.sort()).toEqual(['sl-1', 'tp-1']);
    expect((await w.store.loadAccountView('acct-1')).tracked).toEqual([]);
  });

  it("ends the bot's word on the closed position's stop with it, but not a newer word on its reopen", async () => {
    const w = await world();
    const word = { accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0 as const, noStopIntended: true };
    await w.store.recordIntent({ ...word, updatedAt: position.stateUpdatedAt });
    await runConfirm(w.deps, confirm);
    expect((await w.store.loadAccountView('acct-1')).intents).toEqual([]);

    const reopened = await world();
    await reopened.store.recordIntent({ ...word, updatedAt: position.stateUpdatedAt + 1 });
    await runConfirm(reopened.deps, confirm);
    expect((await reopened.store.loadAccountView('acct-1')).intents).toHaveLength(1);
  });

  it("a pass the fleet's request budget cannot fit sends nothing and waits for the budget, audited as such", async () => {
    const fleet = new MemoryFleetGuard(fleetBudgetOf(5)); // one request per second
    expect(await fleet.admit(1, NOW)).toBe(NOW); // someone else took this second's
    const w = await world({ fleet });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.calls).toEqual([]);
    expect(w.cancelled).toEqual([]);
    expect(outcome.decided[0]?.decision?.kind).toBe('await-confirmation');
    expect(w.telemetry.countOf(Metric.FleetDeferrals)).toBe(1);
    // Nothing was sent: not an exchange error.
    expect(w.telemetry.countOf(Metric.ExchangeErrors)).toBe(0);
    const [waiting] = (await w.store.loadAccountView('acct-1')).suspects;
    expect(waiting?.nextAttemptAt).toBeGreaterThan(NOW);
    expect(w.audit.entries.map((e) => e.decision.message)).toEqual([
      expect.stringMatching(
        /re-check was held back \(.*nothing was sent\); will look again .* No order touched/,
      ),
    ]);
  });

  it('a paused fleet puts the message off until the pause ends, without claiming anything', async () => {
    const fleet = new MemoryFleetGuard();
    await fleet.pause(NOW + 600_000);
    const w = await world({ fleet });
    const outcome = await runConfirm(w.deps, confirm);
    expect(outcome.status).toBe('deferred');
    expect(w.calls).toEqual([]);
    const [untouched] = (await w.store.loadAccountView('acct-1')).suspects;
    expect(untouched?.claimedUntil).toBeUndefined();
    const queue = w.deps.queue as MemoryQueue;
    expect(queue.takeDue(NOW + 599_999)).toEqual([]);
    expect(queue.takeDue(NOW + 600_000 + 30_000)).toHaveLength(1);
  });

  it('renews its claim and re-checks the position after every other step: the cancels follow that last look', async () => {
    const w = await world();
    await runConfirm(w.deps, confirm);
    expect(w.calls.slice(0, -2)).toEqual([
      'recheck',
      'list',
      'history',
      'orders BTCUSDT',
      'cap',
      'renew-claim',
      'recheck',
    ]);
    expect(w.calls.slice(-2).sort()).toEqual(['cancel sl-1', 'cancel tp-1']);
  });

  it('cancels nothing when the last re-check before cancelling finds the position open again, and says so', async () => {
    const reopenedState = {
      ...observedOpen,
      size: '0.002',
      updatedAt: T0 + 35_000,
      sequence: 123_456_789_100,
    };
    const w = await world({ finalRecheck: { status: 'open', checkedAt: NOW, position: reopenedState } });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.cancelled).toEqual([]);
    expect(outcome.decided[0]?.decision).toMatchObject({
      kind: 'still-open',
      reason: 'present-in-final-recheck',
      alarm: false,
    });
    expect(outcome.decided[0]?.cancels).toBeUndefined();
    const entry = w.audit.entries.at(-1);
    expect(entry?.decision.reason).toBe('present-in-final-recheck');
    expect(entry?.decision.message).toMatch(
      /^BTCUSDT \(long, one-way\) is open again \(size 0\.002\) in the last re-check before cancelling, although it closed by stop-loss fill fill-close .*; cancelled nothing, suspect cleared$/,
    );
    expect((await w.store.loadAccountView('acct-1')).suspects).toEqual([]);
  });

  it('cancels nothing when the last re-check fails, and looks again later', async () => {
    const w = await world({
      finalRecheck: {
        status: 'unknown',
        checkedAt: NOW,
        failure: { reason: 'timeout', detail: 'timed out' },
      },
    });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.cancelled).toEqual([]);
    expect(outcome.decided[0]?.decision).toMatchObject({
      kind: 'await-confirmation',
      reason: 'recheck-unknown',
    });
    expect((await w.store.loadAccountView('acct-1')).suspects).toHaveLength(1);
  });

  it('cancels nothing when a check saw the position open (and deleted the suspect) while it verified', async () => {
    const w = await world({ between: async (store) => void (await store.deleteSuspect(position)) });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.cancelled).toEqual([]);
    expect(outcome.decided[0]?.decision).toMatchObject({
      kind: 'stand-down',
      reason: 'claim-lost',
      alarm: false,
    });
    expect(outcome.decided[0]?.cancels).toBeUndefined();
    expect(w.calls.filter((c) => c === 'recheck')).toHaveLength(1);
    expect(w.telemetry.countOf(Metric.CancelsAbandoned)).toBe(2);
    expect(w.telemetry.countOf(Metric.CancelsExecuted)).toBe(0);
    // The line says nothing was cancelled, not "cancelling 2 orders".
    const line = w.telemetry.lines.find((l) => l.fields?.decision === 'stand-down');
    expect(line?.level).toBe('warn');
    expect(line?.message).toMatch(
      /^cancelled nothing on BTCUSDT .*, but the suspect changed hands before the cancels/,
    );
    expect(w.audit.entries.at(-1)?.decision.message).toBe(line?.message);
  });

  it('cancels nothing when the bot registered a reopen meanwhile, though history does not show the reopen yet', async () => {
    const reopened = tracked({
      stateSequence: (position.stateSequence ?? 0) + 10,
      stateUpdatedAt: T0 + 30_000,
      protectiveOrders: [],
    });
    // The ledger write of a registration that lands while this confirmation verifies.
    const w = await world({ between: async (store) => void (await store.registerTracked(reopened)) });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.cancelled).toEqual([]);
    expect(outcome.decided[0]?.decision).toMatchObject({
      kind: 'stand-down',
      reason: 'newer-state-registered',
    });
    expect(outcome.decided[0]?.decision?.message).toMatch(
      /the bot registered a newer state of it since \(a reopen\); suspect ended$/,
    );
    const view = await w.store.loadAccountView('acct-1');
    expect(view.suspects).toEqual([]);
    expect(view.tracked).toHaveLength(1);
    expect(view.tracked[0]?.stateSequence).toBe(reopened.stateSequence);
  });

  it('a registration of a newer state ends the suspect, so a confirmation that comes later cancels nothing', async () => {
    const w = await world();
    const registered = await runRegister(
      { ...w.deps, market: bybitMarketRules },
      {
        type: 'register',
        accountId: 'acct-1',
        position: {
          symbol: 'BTCUSDT',
          positionIdx: 0,
          side: 'long',
          size: '0.002',
          updatedAt: T0 + 30_000,
        },
      },
    );
    expect(registered).toEqual({ status: 'tracked', suspectEnded: true });
    const outcome = await runConfirm(w.deps, confirm);
    expect(outcome.status).toBe('not-claimed');
    expect(w.cancelled).toEqual([]);
    expect(w.calls).toEqual([]);
  });

  it('a cancel the exchange refuses is said loudly and retried after a fresh verification', async () => {
    const w = await world({ failingCancels: ['tp-1'] });
    await runConfirm(w.deps, confirm);
    expect(w.cancelled).toEqual(['sl-1']);
    expect(w.telemetry.countOf(Metric.CancelsFailed)).toBe(1);
    const line = w.telemetry.lines.find((l) => l.fields?.decision === 'cancel-orphans');
    expect(line?.level).toBe('error');
    expect(line?.message).toMatch(/; 1 of 2 cancels FAILED, to be retried after a fresh verification$/);
    // The suspect stays, with its next look scheduled; the position stays tracked.
    const view = await w.store.loadAccountView('acct-1');
    expect(view.suspects).toHaveLength(1);
    expect(view.tracked).toHaveLength(1);
  });

  it('an account with a cap of 0 keeps its orders and raises the cap alarm, never "cancelling no orders"', async () => {
    const w = await world({ settings: { capPerAccount: 0 } });
    const outcome = await runConfirm(w.deps, confirm);
    expect(outcome.decided[0]?.decision).toMatchObject({ kind: 'defer-cap-spent', alarm: true });
    expect(outcome.decided[0]?.decision?.message).toMatch(
      /^kept 2 orders .* account cancel cap \(0 per window/,
    );
    expect(w.cancelled).toEqual([]);
    expect(w.telemetry.countOf(Metric.CapRefusals)).toBe(1);
    // Kept, with a path to resolution: the suspect waits for a later window.
    expect((await w.store.loadAccountView('acct-1')).suspects).toHaveLength(1);
  });

  it('in shadow mode a cap of 0 still reads as kept and alarms, as a live run would', async () => {
    const w = await world({ settings: { shadow: true, capPerAccount: 0 } });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.capAsks).toEqual([]);
    expect(outcome.decided[0]?.decision).toMatchObject({ kind: 'defer-cap-spent', alarm: true });
    expect(w.telemetry.countOf(Metric.CapRefusals)).toBe(1);
    expect(w.telemetry.countOf(Metric.ShadowCancelsSkipped)).toBe(0);
  });

  it('takes what is left of a budget another pass spent in part, instead of nothing', async () => {
    const w = await world({ settings: { capPerAccount: 3 } });
    // A racing pass took two of the account's three slots: the whole ask (two orders) no longer fits.
    expect(await w.deps.cap.acquire('acct-1', 2, NOW, 3)).toMatchObject({ status: 'granted' });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.capAsks.slice(1)).toEqual([2, 1]);
    expect(w.cancelled).toHaveLength(1);
    expect(outcome.decided[0]?.decision).toMatchObject({ kind: 'cancel-orphans', ordersDeferred: 1 });
  });

  it('a partial grant cancels what it may, says what it kept, and counts a cap refusal', async () => {
    const w = await world({ settings: { capPerAccount: 1 } });
    const outcome = await runConfirm(w.deps, confirm);
    expect(outcome.decided[0]?.decision).toMatchObject({
      kind: 'cancel-orphans',
      alarm: true,
      ordersDeferred: 1,
    });
    expect(outcome.decided[0]?.decision?.message).toMatch(/kept 1 more for a later cap window/);
    expect(w.cancelled).toHaveLength(1);
    expect(w.telemetry.countOf(Metric.CapRefusals)).toBe(1);
    expect((await w.store.loadAccountView('acct-1')).suspects).toHaveLength(1);
  });

  it('shadow mode takes no slot from the shared cap and audits every order a live run would cancel', async () => {
    const w = await world({ settings: { shadow: true, capPerAccount: 1 } });
    const outcome = await runConfirm(w.deps, confirm);
    expect(w.capAsks).toEqual([]);
    expect(w.cancelled).toEqual([]);
    // Both orders, though a live run would take two windows for them: shadow finishes in one go.
    expect(outcome.decided[0]?.cancels?.map((c) => [c.orderId, c.status])).toEqual([
      ['sl-1', 'skipped-shadow'],
      ['tp-1', 'skipped-shadow'],
    ]);
    expect(w.telemetry.countOf(Metric.ShadowCancelsSkipped)).toBe(2);
    const line = w.telemetry.lines.find((l) => l.fields?.decision === 'cancel-orphans');
    expect(line?.message).toMatch(
      /^shadow mode, nothing cancelled; a live run would cancel 2 orders \(SL\+TP\) orphaned by BTCUSDT/,
    );
    // The audit trail says the same, not "cancelled".
    expect(w.audit.entries.at(-1)?.decision.message).toBe(line?.message);
    expect((await w.store.loadAccountView('acct-1')).suspects).toEqual([]);
  });
});
