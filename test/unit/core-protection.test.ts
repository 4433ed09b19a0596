import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { positionIdOf } from '#core/keys.js';
import {
  judgeProtection,
  type ProtectionIntent,
  type ProtectionLook,
  type ProtectionWatch,
  stopCoverage,
} from '#core/protection.js';
import { linkIdOf, planReplacementStop } from '#core/stop-replacement.js';
import type { ObservedPosition, ProtectiveOrder } from '#core/types.js';

const T0 = 1_750_000_000_000;
const GRACE = 30_000;
const CADENCE = 10_000;

function position(over: Partial<ObservedPosition> = {}): ObservedPosition {
  return {
    symbol: 'BTCUSDT',
    positionIdx: 0,
    side: 'long',
    size: '0.5',
    // Opened (its last fill) at the first look: the bot's grace runs from here.
    updatedAt: T0,
    protection: { markPrice: '60000', entryPrice: '61000' },
    ...over,
  };
}

const stopped = (p: ObservedPosition): ObservedPosition => ({
  ...p,
  protection: { ...p.protection, stopLoss: '58000' },
});

function order(over: Partial<ProtectiveOrder>): ProtectiveOrder {
  return { orderId: 'o-1', symbol: 'BTCUSDT', positionIdx: 0, kind: 'stop-loss', ...over };
}

/** Runs complete looks every cycle, carrying the watches over as the store would. */
function looks(
  seq: readonly {
    positions: readonly ObservedPosition[];
    orders?: readonly ProtectiveOrder[];
    /** The ledger at this look, when it differs from `tracked`. */
    tracked?: readonly string[];
  }[],
  intents: readonly ProtectionIntent[] = [],
  tracked: readonly string[] = ['BTCUSDT#0'],
  graceMs = GRACE,
) {
  let watches = new Map<string, ProtectionWatch>();
  const decisions: ReturnType<typeof judgeProtection>['decisions'][number][] = [];
  const short: number[] = [];
  seq.forEach((step, i) => {
    const look: ProtectionLook = {
      accountId: 'acct-7',
      snapshot: {
        status: 'complete',
        snapshotId: `snap-${i}`,
        fetchedAt: T0 + i * CADENCE,
        pages: 1,
        positions: step.positions,
      },
      coverage: new Map(step.positions.map((p) => [positionIdOf(p), stopCoverage(p, step.orders)])),
      watches,
      intents: new Map(intents.map((x) => [positionIdOf(x), x])),
      trackedIds: new Set(step.tracked ?? tracked),
      graceMs,
    };
    const judged = judgeProtection(look);
    decisions.push(...judged.decisions);
    short.push(judged.shortNow.length);
    watches = new Map(watches);
    for (const end of judged.ends) watches.delete(positionIdOf(end));
    for (const save of judged.saves) watches.set(positionIdOf(save), save);
  });
  return { decisions, short, watches };
}

describe('stop coverage', () => {
  it('is whole when the position itself carries a stop-loss or trailing stop', () => {
    expect(stopCoverage(stopped(position()), undefined)).toMatchObject({ status: 'known', share: '1' });
    expect(stopCoverage(position({ protection: { trailingStop: '150' } }), undefined)).toMatchObject({
      status: 'known',
      share: '1',
    });
  });

  it('is unknown without the position-level stop when the orders were not listed', () => {
    expect(stopCoverage(position(), undefined)).toEqual({ status: 'unknown' });
  });

  it('sums partial stops and closing-side conditionals, and never counts a take-profit', () => {
    const orders = [
      order({ orderId: 'sl', qty: '0.2' }),
      order({ orderId: 'tp', kind: 'take-profit', qty: '0.3' }),
      order({
        orderId: 'ro-stop',
        kind: 'reduce-only',
        triggerPrice: '59000',
        triggersOn: 'fall',
        qty: '0.1',
      }),
      order({ orderId: 'ro-tp', kind: 'reduce-only', triggerPrice: '65000', triggersOn: 'rise', qty: '0.2' }),
      order({ orderId: 'limit', kind: 'reduce-only', qty: '0.5' }),
      order({ orderId: 'other', symbol: 'ETHUSDT', qty: '0.5' }),
    ];
    expect(stopCoverage(position(), orders)).toMatchObject({ status: 'known', share: '0.6' });
  });

  it('counts a sizeless stop order (Full mode) as the whole position', () => {
    expect(stopCoverage(position(), [order({})])).toMatchObject({ share: '1' });
  });
});

describe('judging protection', () => {
  it('alarms a bare position after 2 complete looks and the grace, once, in words that name it', () => {
    const bare = Array.from({ length: 6 }, () => ({ positions: [position()], orders: [] }));
    const { decisions, short } = looks(bare);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({ kind: 'unprotected', alarm: true, coveredShare: '0' });
    expect(decisions[0]?.message).toBe(
      'BTCUSDT long 0.5 on acct-7: no stop-loss for 30.0 s; exchange shows none, position-level or order',
    );
    // Looks 0..2 are within the grace; from look 3 on it counts as unprotected.
    expect(short).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('starts a new episode when the position flips or grows: the bot gets its grace again', () => {
    const bare = { positions: [position()], orders: [] };
    // A flip or a growth is a fill: the position's change time moves to the look that shows it.
    const flipped = { positions: [position({ side: 'short', updatedAt: T0 + 4 * CADENCE })], orders: [] };
    const { decisions } = looks([bare, bare, bare, bare, flipped, flipped, flipped, flipped]);
    expect(decisions.map((d) => [d.kind, d.message.split(':')[0]])).toEqual([
      ['unprotected', 'BTCUSDT long 0.5 on acct-7'],
      ['unprotected', 'BTCUSDT short 0.5 on acct-7'],
    ]);
    const grown = { positions: [position({ size: '0.8', updatedAt: T0 + 4 * CADENCE })], orders: [] };
    const { short } = looks([bare, bare, bare, bare, grown, grown]);
    // Judged at look 3; the grown position is within its new grace at looks 4 and 5.
    expect(short).toEqual([0, 0, 0, 1, 0, 0]);
  });

  it('needs 2 complete looks even without a grace: one look is never enough', () => {
    const bare = { positions: [position()], orders: [] };
    const { decisions, short } = looks([bare, bare], [], ['BTCUSDT#0'], 0);
    expect(short).toEqual([0, 1]);
    expect(decisions).toHaveLength(1);
    expect(looks([bare], [], ['BTCUSDT#0'], 0).decisions).toEqual([]);
  });

  it('says underprotected with the covered share when stops cover part of it', () => {
    const partial = Array.from({ length: 4 }, () => ({
      positions: [position()],
      orders: [order({ qty: '0.2' })],
    }));
    const [decision] = looks(partial).decisions;
    expect(decision).toMatchObject({ kind: 'underprotected', coveredShare: '0.4' });
    expect(decision?.message).toContain('stops cover only 40 % of the size');
  });

  it('leaves a bot that places its stop within the grace alone', () => {
    const { decisions, watches } = looks([
      { positions: [position()], orders: [] },
      { positions: [position()], orders: [] },
      { positions: [stopped(position())] },
      { positions: [stopped(position())] },
    ]);
    expect(decisions).toEqual([]);
    expect(watches.size).toBe(0);
  });

  it('audits the recovery of an alarmed position, and its close', () => {
    const bare = { positions: [position()], orders: [] };
    const recovered = looks([bare, bare, bare, bare, { positions: [stopped(position())] }]).decisions;
    expect(recovered.map((d) => [d.kind, d.reason])).toEqual([
      ['unprotected', 'stop-coverage-short'],
      ['protection-restored', 'stop-seen'],
    ]);
    const closed = looks([bare, bare, bare, bare, { positions: [], tracked: [] }]).decisions;
    expect(closed.at(-1)).toMatchObject({ kind: 'protection-restored', reason: 'position-closed' });
  });

  it('starts a new episode for a position opened again at another price between two looks', () => {
    const bare = { positions: [position()], orders: [] };
    // The ledger still tracks it (the bot registered the reopen before the close was proven).
    const reopened = position({
      size: '0.3',
      updatedAt: T0 + 4 * CADENCE,
      protection: { markPrice: '60000', entryPrice: '61500' },
    });
    const refilled = { positions: [reopened], orders: [] };
    const { decisions } = looks([bare, bare, bare, bare, refilled, refilled, refilled, refilled]);
    expect(decisions.map((d) => [d.kind, d.snapshotIds.at(-1), d.message.split(':')[0]])).toEqual([
      ['unprotected', 'snap-3', 'BTCUSDT long 0.5 on acct-7'],
      ['unprotected', 'snap-7', 'BTCUSDT long 0.3 on acct-7'],
    ]);
  });

  it('keeps one episode through updates that are no fill (funding moves updatedTime every look)', () => {
    const seq = Array.from({ length: 8 }, (_, i) => ({
      positions: [position({ updatedAt: T0 + i * CADENCE })],
      orders: [],
    }));
    const { decisions, short } = looks(seq);
    expect(decisions.map((d) => [d.kind, d.snapshotIds.at(-1)])).toEqual([['unprotected', 'snap-3']]);
    expect(short).toEqual([0, 0, 0, 1, 1, 1, 1, 1]);
  });

  it('does not take a stale list’s older change time for the position’s age', () => {
    const opened = T0 + 2 * CADENCE;
    const fresh = { positions: [position({ updatedAt: opened })], orders: [] };
    // A lagging answer shows the state before the latest fill: the position looks an hour old.
    const stale = { positions: [position({ updatedAt: T0 - 3_600_000 })], orders: [] };
    const none = { positions: [], orders: [] };
    const { decisions } = looks([none, none, fresh, stale]);
    expect(decisions).toEqual([]);
  });

  it('starts a reopen’s own episode once the ledger forgot its predecessor, whatever its size', () => {
    const bare = { positions: [position()], orders: [] };
    // Closed (proven: the ledger forgot it) and opened again, same side and size, at look 4.
    const reopened = position({ updatedAt: T0 + 4 * CADENCE });
    const { decisions, short } = looks([
      bare,
      bare,
      bare,
      bare,
      { positions: [reopened], orders: [], tracked: [] },
      { positions: [reopened], orders: [] },
      { positions: [reopened], orders: [] },
      { positions: [reopened], orders: [] },
    ]);
    expect(decisions.map((d) => [d.kind, d.reason, d.snapshotIds.at(-1)])).toEqual([
      ['unprotected', 'stop-coverage-short', 'snap-3'],
      ['protection-restored', 'position-closed', 'snap-4'],
      ['unprotected', 'stop-coverage-short', 'snap-7'],
    ]);
    // Within its own grace at looks 4 to 6: not counted as short.
    expect(short).toEqual([0, 0, 0, 1, 0, 0, 0, 1]);
    // A reopen that has its stop just ends the predecessor's watch.
    const covered = looks([bare, bare, bare, bare, { positions: [stopped(reopened)], tracked: [] }]);
    expect(covered.watches.size).toBe(0);
  });

  it('never alarms a position the bot registered as having no stop by design', () => {
    const intent: ProtectionIntent = {
      accountId: 'acct-7',
      symbol: 'BTCUSDT',
      positionIdx: 0,
      noStopIntended: true,
      updatedAt: T0,
    };
    const bare = Array.from({ length: 8 }, () => ({ positions: [position()], orders: [] }));
    expect(looks(bare, [intent]).decisions).toEqual([]);
  });

  it('counts no look whose coverage is unknown (the orders listing failed)', () => {
    const unknown = { positions: [position()] };
    expect(looks([unknown, unknown, unknown, unknown, unknown]).decisions).toEqual([]);
  });

  it('keeps the watch of a tracked position a list left out: an incomplete list is no look', () => {
    const bare = { positions: [position()], orders: [] };
    const { watches, decisions } = looks([bare, { positions: [], orders: [] }]);
    expect(decisions).toEqual([]);
    expect(watches.get('BTCUSDT#0')?.looks).toBe(1);
  });

  it('property: a fully stopped position is never alarmed, whatever the lists leave out', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (listed) => {
        const seq = listed.map((shown) => ({ positions: shown ? [stopped(position())] : [], orders: [] }));
        expect(looks(seq).decisions).toEqual([]);
      }),
    );
  });

  it('property: an alarm always rests on 2 complete looks that found it short, after the grace', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('bare', 'stopped', 'missing', 'unknown'), { minLength: 1, maxLength: 30 }),
        // The position's last change: long before the looks, during them, or (a skewed clock) after.
        fc.integer({ min: -600_000, max: 400_000 }),
        (steps, changed) => {
          const held = position({ updatedAt: T0 + changed });
          const seq = steps.map((s) =>
            s === 'bare'
              ? { positions: [held], orders: [] }
              : s === 'stopped'
                ? { positions: [stopped(held)] }
                : s === 'missing'
                  ? { positions: [], orders: [] }
                  : { positions: [held] },
          );
          const { decisions } = looks(seq);
          for (const d of decisions.filter((x) => x.kind === 'unprotected')) {
            const at = Number(d.snapshotIds.at(-1)?.slice('snap-'.length));
            const since = (d.uncoveredSince - T0) / CADENCE;
            const bareLooks = steps.slice(since, at + 1).filter((s) => s === 'bare').length;
            expect(bareLooks).toBeGreaterThanOrEqual(2);
            expect(steps.slice(since, at + 1)).not.toContain('stopped');
            // The bot had its grace: bare that long, or the position unchanged that long before the alarm.
            const fetchedAt = T0 + at * CADENCE;
            const unchangedFor = T0 + changed <= fetchedAt ? fetchedAt - (T0 + changed) : 0;
            expect(Math.max((at - since) * CADENCE, unchangedFor)).toBeGreaterThanOrEqual(GRACE);
          }
        },
      ),
    );
  });

  it('property: a stop gone from a position held past the grace is alarmed at the 2nd bare complete look', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.constantFrom('missing', 'unknown'), { maxLength: 4 }),
        fc.array(fc.constantFrom('missing', 'unknown'), { maxLength: 4 }),
        (coveredLooks, between, after) => {
          const held = position({ updatedAt: T0 - 3_600_000 });
          const step = (s: string) =>
            s === 'missing' ? { positions: [], orders: [] } : { positions: [held] };
          const seq = [
            ...Array.from({ length: coveredLooks }, () => ({ positions: [stopped(held)] })),
            { positions: [held], orders: [] },
            ...between.map(step),
            { positions: [held], orders: [] },
            ...after.map(step),
          ];
          const { decisions } = looks(seq);
          const alarms = decisions.filter((d) => d.kind === 'unprotected');
          expect(alarms).toHaveLength(1);
          expect(alarms[0]?.snapshotIds.at(-1)).toBe(`snap-${coveredLooks + between.length + 1}`);
          // Bare for less than the grace: the line says how long the position has been held as it is.
          const bareMs = (between.length + 1) * CADENCE;
          expect(alarms[0]?.message).toMatch(
            bareMs < GRACE
              ? /no stop-loss for [\d.]+ s, position last changed 6\d\.\d min ago;/
              : /no stop-loss for [\d.]+ s;/,
          );
        },
      ),
    );
  });
});

describe('the replacement stop', () => {
  const watch: ProtectionWatch = {
    accountId: 'acct-7',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    side: 'long',
    size: '0.5',
    since: T0,
    looks: 2,
    coveredShare: '0.4',
    alarmedAt: T0 + GRACE,
    snapshotIds: ['snap-0', 'snap-3'],
  };

  it('covers exactly the uncovered size at the distance from entry, rounded away from the market', () => {
    const plan = planReplacementStop(watch, position(), undefined, { stopDistance: '0.05' }, '0.2');
    expect(plan).toEqual({
      status: 'place',
      request: {
        symbol: 'BTCUSDT',
        positionIdx: 0,
        positionSide: 'long',
        qty: '0.3',
        triggerPrice: '57950',
        orderLinkId: linkIdOf(watch),
      },
    });
  });

  it('never places more than the size the stops leave uncovered', () => {
    const sized = (size: string, covered: string) =>
      planReplacementStop(watch, position({ size }), undefined, { stopDistance: '0.05' }, covered);
    expect(sized('0.3', '0.1')).toMatchObject({ request: { qty: '0.2' } });
    expect(sized('1200', '500')).toMatchObject({ request: { qty: '700' } });
    expect(sized('10', '3.3')).toMatchObject({ request: { qty: '6.7' } });
    expect(sized('0.3', '0.3')).toMatchObject({ status: 'refuse' });
  });

  it('prefers the stop price the bot registered', () => {
    const intent: ProtectionIntent = { ...watch, noStopIntended: false, stopPrice: '59000', updatedAt: T0 };
    expect(planReplacementStop(watch, position(), intent, { stopDistance: '0.05' })).toMatchObject({
      request: { triggerPrice: '59000' },
    });
  });

  it('refuses a stop the mark price has already crossed: it would fire at once', () => {
    const intent: ProtectionIntent = { ...watch, noStopIntended: false, stopPrice: '60500', updatedAt: T0 };
    expect(planReplacementStop(watch, position(), intent, {})).toMatchObject({
      status: 'refuse',
      reason: 'would-trigger-at-once',
    });
    const short = position({ side: 'short', protection: { markPrice: '60000', entryPrice: '57000' } });
    expect(
      planReplacementStop({ ...watch, side: 'short' }, short, undefined, { stopDistance: '0.05' }),
    ).toMatchObject({
      reason: 'would-trigger-at-once',
    });
  });

  it('refuses without a rule, rather than guessing a price', () => {
    expect(planReplacementStop(watch, position(), undefined, {})).toMatchObject({ reason: 'no-stop-rule' });
  });

  it('names every attempt of one episode the same, with the prefix, in at most 36 characters', () => {
    const long = { ...watch, symbol: '1000000BABYDOGEUSDT-LONGER-THAN-USUAL' };
    expect(linkIdOf(watch)).toBe(linkIdOf({ ...watch }));
    expect(linkIdOf(watch)).toMatch(/^sg-/);
    expect(linkIdOf(long).length).toBeLessThanOrEqual(36);
    expect(linkIdOf({ ...watch, since: T0 + 1 })).not.toBe(linkIdOf(watch));
  });
});
