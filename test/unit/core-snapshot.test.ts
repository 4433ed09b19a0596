import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultReconcileConfig } from '#core/config.js';
import { positionIdOf } from '#core/keys.js';
import { assessSnapshot } from '#core/snapshot.js';
import { newSuspect } from '#core/suspect.js';
import type { ObservedPosition, PositionSnapshot, SuspectRecord, TrackedPosition } from '#core/types.js';

const T0 = 1_750_000_000_000;
const config = defaultReconcileConfig;

function tracked(symbol: string, over: Partial<TrackedPosition> = {}): TrackedPosition {
  return {
    accountId: 'acct-1',
    symbol,
    positionIdx: 0,
    side: 'long',
    size: '1',
    lastSeenOpenAt: T0,
    lastSeenSnapshotId: 'snap-0',
    stateUpdatedAt: T0 - 1_000,
    stateSequence: 10,
    protectiveOrders: [],
    ...over,
  };
}

function seen(t: TrackedPosition, over: Partial<ObservedPosition> = {}): ObservedPosition {
  return {
    symbol: t.symbol,
    positionIdx: t.positionIdx,
    side: t.side,
    size: t.size,
    updatedAt: t.stateUpdatedAt,
    ...(t.stateSequence === undefined ? {} : { sequence: t.stateSequence }),
    ...over,
  };
}

function complete(positions: readonly ObservedPosition[], id = 'snap-1'): PositionSnapshot {
  return { status: 'complete', snapshotId: id, fetchedAt: T0 + 10_000, pages: 1, positions };
}

const assess = (
  ledger: readonly TrackedPosition[],
  snapshot: PositionSnapshot,
  suspects: readonly SuspectRecord[] = [],
  consecutiveDistrusted = 0,
) =>
  assessSnapshot({
    accountId: 'acct-1',
    tracked: ledger,
    snapshot,
    suspects: new Map(suspects.map((s) => [positionIdOf(s), s])),
    consecutiveDistrusted,
    now: T0 + 10_000,
    config,
  });

describe('assessSnapshot: the first look never acts', () => {
  it('only ever raises suspects, whatever the snapshot lacks', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'), { minLength: 1 }),
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 5 }),
        (symbols, present, isComplete, streak) => {
          const ledger = symbols.map((s) => tracked(`${s}USDT`));
          const positions = ledger.filter((_, i) => present[i]).map((t) => seen(t));
          const snapshot: PositionSnapshot = isComplete
            ? complete(positions)
            : {
                ...complete(positions),
                status: 'unknown',
                failure: { reason: 'timeout', detail: 'page 2 timed out' },
              };
          const result = assess(ledger, snapshot, [], streak);
          expect(result.decisions).toHaveLength(ledger.length);
          for (const d of result.decisions) {
            expect(['still-open', 'raise-suspect', 'hold']).toContain(d.kind);
          }
          if (!isComplete) expect(result.decisions.some((d) => d.kind === 'raise-suspect')).toBe(false);
        },
      ),
    );
  });

  it('raises a suspect for a position missing from a complete, plausible list, in words that promise nothing', () => {
    const ledger = [tracked('BTCUSDT'), tracked('ETHUSDT'), tracked('AAVEUSDT')];
    const result = assess(
      ledger,
      complete([seen(ledger[0] as TrackedPosition), seen(ledger[1] as TrackedPosition)]),
    );
    expect(result.trust).toBe('believed');
    const aave = result.decisions.find((d) => d.key.symbol === 'AAVEUSDT');
    expect(aave).toMatchObject({ kind: 'raise-suspect', reason: 'absent-from-snapshot', alarm: false });
    expect(aave?.message).toMatch(
      /suspect only: nothing is touched before a second look in 5 s and a close event/,
    );
  });

  it('treats an incomplete snapshot as unknown, never as "no positions"', () => {
    const ledger = [tracked('BTCUSDT'), tracked('ETHUSDT')];
    const snapshot: PositionSnapshot = {
      status: 'unknown',
      snapshotId: 'snap-9',
      fetchedAt: T0,
      pages: 1,
      positions: [],
      failure: { reason: 'cursor-loop', detail: 'page 3 returned a cursor already followed' },
    };
    const result = assess(ledger, snapshot);
    expect(result.trust).toBe('unknown');
    expect(result.decisions.map((d) => d.kind)).toEqual(['hold', 'hold']);
    expect(result.accountEvent).toMatch(/incomplete \(cursor-loop/);
  });
});

describe('self-preservation', () => {
  const ledger = ['A', 'B', 'C', 'D'].map((s) => tracked(`${s}USDT`));
  const half = complete([seen(ledger[0] as TrackedPosition), seen(ledger[1] as TrackedPosition)]);

  it('distrusts a snapshot that lacks half the tracked positions: no suspects, an account event', () => {
    const result = assess(ledger, half);
    expect(result.trust).toBe('distrusted');
    expect(result.consecutiveDistrusted).toBe(1);
    expect(result.decisions.filter((d) => d.kind === 'raise-suspect')).toEqual([]);
    expect(result.decisions.filter((d) => d.kind === 'hold').map((d) => d.key.symbol)).toEqual([
      'CUSDT',
      'DUSDT',
    ]);
    expect(result.accountEvent).toMatch(/^distrusted snapshot snap-1: it lacks 2 of 4 tracked positions/);
  });

  it('does not distrust a single missing position, even of two', () => {
    const two = ledger.slice(0, 2);
    const result = assess(two, complete([seen(two[0] as TrackedPosition)]));
    expect(result.trust).toBe('believed');
    expect(result.decisions.map((d) => d.kind)).toEqual(['still-open', 'raise-suspect']);
  });

  it('believes a mass absence that persists, so a real "close everything" is still cleaned up', () => {
    const third = assess(ledger, half, [], config.massAbsenceConfirmations - 1);
    expect(third.trust).toBe('mass-absence-believed');
    const raised = third.decisions.filter((d) => d.kind === 'raise-suspect');
    expect(raised.map((d) => d.key.symbol)).toEqual(['CUSDT', 'DUSDT']);
    expect(raised.every((d) => d.alarm && d.reason === 'absent-in-persistent-mass-absence')).toBe(true);
  });

  it('resets the streak on a believable snapshot', () => {
    expect(assess(ledger, complete(ledger.map((t) => seen(t))), [], 2).consecutiveDistrusted).toBe(0);
  });
});

describe('reappearance', () => {
  const btc = tracked('BTCUSDT');
  const suspect = newSuspect(btc, complete([], 'snap-missing'), T0, config);

  it('counts an unchanged reappearance as an incomplete response observed', () => {
    const result = assess([btc], complete([seen(btc)], 'snap-back'));
    expect(result.decisions[0]).toMatchObject({ kind: 'still-open', incompleteResponseObserved: false });
    const withSuspect = assess([btc], complete([seen(btc)], 'snap-back'), [suspect]);
    expect(withSuspect.decisions[0]).toMatchObject({ kind: 'still-open', incompleteResponseObserved: true });
    expect(withSuspect.decisions[0]?.message).toMatch(
      /after being absent from snap-missing: that response was incomplete/,
    );
  });

  it('does not count a changed (traded or reopened) position as an exchange glitch', () => {
    const result = assess([btc], complete([seen(btc, { sequence: 12, size: '3' })]), [suspect]);
    expect(result.decisions[0]).toMatchObject({ kind: 'still-open', incompleteResponseObserved: false });
    expect(result.decisions[0]?.message).toMatch(/changed since last seen/);
  });

  it('re-sends a confirmation that is long overdue (its message was lost)', () => {
    const lost = { ...suspect, nextAttemptAt: T0 - config.overdueConfirmMs - 1 };
    const result = assess([btc, tracked('ETHUSDT')], complete([seen(tracked('ETHUSDT'))]), [lost]);
    expect(result.decisions[0]).toMatchObject({
      kind: 'await-confirmation',
      reason: 'confirm-overdue',
      resendConfirmation: true,
    });
    const pending = assess([btc, tracked('ETHUSDT')], complete([seen(tracked('ETHUSDT'))]), [suspect]);
    expect(pending.decisions[0]).toMatchObject({
      kind: 'await-confirmation',
      reason: 'already-suspect',
      resendConfirmation: false,
    });
  });
});

describe('the ledger', () => {
  it('adds new positions and refreshes known ones, but never rolls a state back on a stale answer', () => {
    const btc = tracked('BTCUSDT', { stateSequence: 20, size: '2' });
    const result = assess(
      [btc],
      complete([
        seen(btc, { sequence: 19, size: '5' }),
        { symbol: 'SOLUSDT', positionIdx: 2, side: 'short', size: '7', updatedAt: T0 },
      ]),
    );
    expect(result.ledgerUpserts.map((t) => t.symbol)).toEqual(['SOLUSDT']);
    const fresher = assess([btc], complete([seen(btc, { sequence: 21, size: '1' })]));
    expect(fresher.ledgerUpserts[0]).toMatchObject({
      symbol: 'BTCUSDT',
      size: '1',
      stateSequence: 21,
      lastSeenSnapshotId: 'snap-1',
    });
  });
});
