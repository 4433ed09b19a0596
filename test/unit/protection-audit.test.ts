import { describe, expect, it } from 'vitest';
import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import type { AccountRecord } from '#contracts/account-record.js';
import { defaultSettings, type ReconcileSettings } from '#contracts/settings.js';
import type { StopOrderRequest } from '#core/decision.js';
import type { ObservedPosition, PositionSnapshot, ProtectiveOrder } from '#core/types.js';
import { runCheck } from '#orchestration/check.js';
import { runRegister } from '#orchestration/register.js';
import type { ExchangeSession, PlaceStopOutcome } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { memoryDeps } from '#test/support/memory-deps.js';
import { account, T0 } from '#test/support/records.js';

const CADENCE = 10_000;

const bare: ObservedPosition = {
  symbol: 'BTCUSDT',
  positionIdx: 0,
  side: 'long',
  size: '0.5',
  // Opened (its last fill) just before the first check: the bot's grace runs from there.
  updatedAt: T0 - 1,
  sequence: 7,
  protection: { markPrice: '60000', entryPrice: '61000' },
};
const stopped: ObservedPosition = { ...bare, protection: { ...bare.protection, stopLoss: '58000' } };

/** A check loop on in-memory ports, against a session whose answers the test scripts. */
function rig(options: {
  protection?: AccountRecord['protection'];
  settings?: Partial<ReconcileSettings>;
  list?: (i: number) => PositionSnapshot['status'] | 'drop';
  positions?: readonly ObservedPosition[];
  orders?: readonly ProtectiveOrder[] | 'fail' | ((look: number) => readonly ProtectiveOrder[] | 'fail');
  place?: (request: StopOrderRequest) => PlaceStopOutcome;
}) {
  let now = T0;
  let look = 0;
  const listings: number[] = [];
  const placed: StopOrderRequest[] = [];
  const telemetry = new MemoryTelemetry();
  const audit = new MemoryAudit(true);
  const store = new MemoryStore();
  let positions = options.positions ?? [bare];
  const exchange: ExchangeSession = {
    fetchOpenPositions: async () => {
      const status = options.list?.(look) ?? 'complete';
      const snapshot = { snapshotId: `snap-${look++}`, fetchedAt: now, pages: 1 };
      if (status === 'unknown') {
        return { ...snapshot, status, positions: [], failure: { reason: 'timeout', detail: 'timed out' } };
      }
      return { ...snapshot, status: 'complete', positions: status === 'drop' ? [] : positions };
    },
    recheckSymbol: async () => ({ status: 'listed', checkedAt: now, open: [...positions], flat: [] }),
    fetchPositionChanges: async () => new Map(),
    fetchProtectiveOrders: async () => {
      listings.push(look);
      const orders = typeof options.orders === 'function' ? options.orders(look - 1) : options.orders;
      return orders === 'fail'
        ? { status: 'unknown', failure: { reason: 'http-error', detail: 'HTTP 502' } }
        : { status: 'known', orders: orders ?? [] };
    },
    cancelOrder: async (_s, orderId) => ({ status: 'cancelled', orderId }),
    placeStop: async (request) => {
      placed.push(request);
      return options.place?.(request) ?? { status: 'placed', orderId: `stop-${placed.length}` };
    },
  };
  const deps = memoryDeps(() => now, exchange, {
    ids: { next: (p) => `${p}-${look}` },
    accounts: new MemoryAccounts([
      account('acct-7', options.protection === undefined ? {} : { protection: options.protection }),
    ]),
    store,
    placementCap: new MemoryCap({ perAccount: 5, global: 20, windowMs: 3_600_000 }),
    audit,
    telemetry,
    settings: { ...defaultSettings, ...options.settings },
  });
  return {
    store,
    telemetry,
    listings,
    placed,
    deps,
    setPositions: (next: readonly ObservedPosition[]) => {
      positions = next;
    },
    audited: () => audit.entries.map((e) => e.decision),
    /** Runs checks one cadence apart; returns every decision of theirs. */
    checks: async (n: number) => {
      const decisions = [];
      for (let i = 0; i < n; i++) {
        const outcome = await runCheck(deps, { type: 'check', accountId: 'acct-7', slot: i });
        decisions.push(...outcome.decisions);
        now += CADENCE;
      }
      return decisions;
    },
  };
}

describe('the protection audit in a check', () => {
  it('finds a live position without a stop, alarms it once, audits it and counts it every check', async () => {
    const r = rig({});
    const decisions = await r.checks(6);
    const alarms = decisions.filter((d) => d.kind === 'unprotected');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.message).toBe(
      'BTCUSDT long 0.5 on acct-7: no stop-loss for 30.0 s; exchange shows none, position-level or order',
    );
    expect(r.audited().filter((d) => d.kind === 'unprotected')).toHaveLength(1);
    // Looks 3, 4 and 5 each count it: the alarm's maximum stays above 0 while it lasts.
    expect(r.telemetry.countOf(Metric.UnprotectedPositions)).toBe(3);
  });

  it('alarms a stop gone from a position held for an hour at the second bare look, a dropped list between', async () => {
    // The position's stop is on it for two looks, then gone; the list at look 3 leaves it out.
    const held = { ...stopped, updatedAt: T0 - 3_600_000 };
    const r = rig({
      positions: [held],
      list: (i) => (i === 3 ? 'drop' : 'complete'),
    });
    await r.checks(2);
    r.setPositions([{ ...bare, updatedAt: held.updatedAt }]);
    const alarms = (await r.checks(3)).filter((d) => d.kind === 'unprotected');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.message).toBe(
      'BTCUSDT long 0.5 on acct-7: no stop-loss for 20.0 s, position last changed 60.7 min ago; exchange shows none, position-level or order',
    );
  });

  it('lists orders only when a position-level stop does not cover the position', async () => {
    const covered = rig({ positions: [stopped] });
    await covered.checks(5);
    expect(covered.listings).toEqual([]);
    expect(covered.telemetry.countOf(Metric.ProtectionOrderListings)).toBe(0);
    const partial = rig({
      orders: [{ orderId: 'sl', symbol: 'BTCUSDT', positionIdx: 0, kind: 'stop-loss' }],
    });
    const decisions = await partial.checks(5);
    expect(partial.listings).toHaveLength(5);
    expect(decisions.filter((d) => d.kind === 'unprotected')).toEqual([]);
  });

  it('never alarms on lists that leave the position out, nor when the orders cannot be listed', async () => {
    const dropping = rig({ list: (i) => (i % 2 === 0 ? 'complete' : 'drop'), positions: [stopped] });
    expect((await dropping.checks(10)).filter((d) => d.kind === 'unprotected')).toEqual([]);
    const failing = rig({ orders: 'fail' });
    expect((await failing.checks(10)).filter((d) => d.kind === 'unprotected')).toEqual([]);
    const unknown = rig({ list: () => 'unknown' });
    expect((await unknown.checks(10)).filter((d) => d.kind === 'unprotected')).toEqual([]);
  });

  it('audits the recovery when a stop is seen again', async () => {
    const r = rig({});
    await r.checks(5);
    r.setPositions([stopped]);
    const decisions = await r.checks(1);
    expect(decisions).toContainEqual(
      expect.objectContaining({ kind: 'protection-restored', reason: 'stop-seen', alarm: false }),
    );
    expect((await r.store.loadAccountView('acct-7')).watches).toEqual([]);
  });

  it('leaves a position the bot registered without a stop by design alone', async () => {
    const r = rig({});
    await runRegister(
      { ...r.deps, market: bybitMarketRules },
      {
        type: 'register',
        accountId: 'acct-7',
        position: {
          symbol: 'BTCUSDT',
          positionIdx: 0,
          side: 'long',
          size: '0.5',
          updatedAt: T0 - 1_000,
          noStopIntended: true,
        },
      },
    );
    const decisions = await r.checks(8);
    expect(decisions.filter((d) => d.kind === 'unprotected' || d.kind === 'place-stop')).toEqual([]);
    expect(r.listings).toEqual([]);
  });
});

describe('replace mode', () => {
  it('places one reduce-only stop per episode, however many checks see it bare', async () => {
    const r = rig({ protection: { mode: 'replace', stopDistance: '0.05' } });
    const decisions = await r.checks(8);
    expect(r.placed).toEqual([
      {
        symbol: 'BTCUSDT',
        positionIdx: 0,
        positionSide: 'long',
        qty: '0.5',
        triggerPrice: '57950',
        orderLinkId: expect.stringMatching(/^sg-BTCUSDT-0/),
      },
    ]);
    const placements = decisions.filter((d) => d.kind === 'place-stop');
    expect(placements).toHaveLength(1);
    expect(placements[0]?.message).toMatch(/^placed \(order stop-1\) a reduce-only stop for 0.5 at 57950/);
    expect(r.telemetry.countOf(Metric.StopsPlaced)).toBe(1);
  });

  it('says where the stop rests when the venue put its trigger on the instrument tick', async () => {
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.05' },
      place: () => ({ status: 'placed', orderId: 'stop-1', triggerPrice: '57950.0' }),
    });
    const placements = (await r.checks(8)).filter((d) => d.kind === 'place-stop');
    expect(placements[0]?.message).toMatch(
      /^placed \(order stop-1, its trigger put on the tick at 57950\.0\) a reduce-only stop for 0.5 at 57950 /,
    );
  });

  it('places nothing while a suspect of the position is open (a list just missed it), then places once it is gone', async () => {
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.05' },
      list: (i) => (i === 3 ? 'drop' : 'complete'),
    });
    const decisions = await r.checks(6);
    const placements = decisions.filter((d) => d.kind === 'place-stop');
    expect(placements.map((d) => d.reason)).toEqual(['suspect-open', 'placed']);
    expect(placements[0]?.message).toMatch(
      /^placed NO stop on BTCUSDT long 0.5 on acct-7: a suspect of it is open/,
    );
    expect(r.placed).toHaveLength(1);
  });

  it('in shadow mode says what it would place and places nothing', async () => {
    const r = rig({ protection: { mode: 'replace', stopDistance: '0.05' }, settings: { shadow: true } });
    const decisions = await r.checks(8);
    expect(r.placed).toEqual([]);
    // Said once, not on every look while the position stays bare.
    expect(decisions.filter((d) => d.kind === 'place-stop')).toEqual([
      expect.objectContaining({ reason: 'shadow', alarm: false }),
    ]);
  });

  it('places nothing when the trigger would fire at once, and alarms instead', async () => {
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.001' },
      positions: [{ ...bare, protection: { markPrice: '60000', entryPrice: '62000' } }],
    });
    const decisions = await r.checks(5);
    expect(r.placed).toEqual([]);
    expect(decisions.find((d) => d.kind === 'place-stop')).toMatchObject({
      reason: 'would-trigger-at-once',
      alarm: true,
    });
  });

  it('tries again with the same orderLinkId after a refused placement, and reads a duplicate as placed', async () => {
    let attempt = 0;
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.05' },
      place: () =>
        ++attempt === 1
          ? { status: 'failed', detail: 'HTTP 502' }
          : { status: 'already-placed', detail: 'retCode 110072 OrderLinkedID is duplicate' },
    });
    const decisions = await r.checks(6);
    expect(r.placed.map((p) => p.orderLinkId)).toEqual([r.placed[0]?.orderLinkId, r.placed[0]?.orderLinkId]);
    expect(decisions.filter((d) => d.kind === 'place-stop').map((d) => d.reason)).toEqual([
      'place-failed',
      'already-placed',
    ]);
  });

  it('never places on a look whose order listing failed, even for a position alarmed before', async () => {
    let attempt = 0;
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.05' },
      orders: (look) => (look >= 4 ? 'fail' : []),
      place: () =>
        ++attempt === 1 ? { status: 'failed', detail: 'HTTP 502' } : { status: 'placed', orderId: 'x' },
    });
    await r.checks(8);
    // Placed (and refused) once at look 3; every later look's listing failed: nothing more was sent.
    expect(r.placed).toHaveLength(1);
  });

  it('keeps to its own cap, apart from the cancels', async () => {
    const r = rig({
      protection: { mode: 'replace', stopDistance: '0.05' },
      settings: { placementCapPerAccount: 1 },
      positions: [
        bare,
        { ...bare, symbol: 'ETHUSDT', protection: { markPrice: '3000', entryPrice: '3100' } },
      ],
    });
    const decisions = await r.checks(5);
    expect(r.placed).toHaveLength(1);
    const reasons = decisions.filter((d) => d.kind === 'place-stop').map((d) => d.reason);
    expect(reasons.filter((x) => x === 'placed')).toHaveLength(1);
    expect(reasons).toContain('cap-spent');
    expect(r.telemetry.countOf(Metric.CapRefusals)).toBeGreaterThan(0);
  });
});
