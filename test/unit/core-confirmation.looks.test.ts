import { describe, expect, it } from 'vitest';
import { retryDelay } from '#core/confirmation.js';
import { describeOutcome } from '#core/narrate.js';
import {
  config,
  failure,
  observedOpen,
  order,
  position,
  runToDecision,
  suspect,
  T0,
} from '#test/support/confirmation.js';

/**
 * The order in which the confirmation looks, when it waits and when it keeps loudly, and how a cancel's
 * outcome is said.
 */
describe('describeOutcome: a cancel is said once, from what was done', () => {
  const decided = runToDecision(
    { suspect, now: T0 + 40_000, config },
    {
      recheck: { status: 'flat', checkedAt: T0 + 40_000 },
      snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 40_000, pages: 1, positions: [] },
      evidence: {
        status: 'known',
        searchedFrom: position.stateUpdatedAt,
        searchedTo: T0 + 40_000,
        changes: [
          {
            id: 'e1',
            source: 'execution',
            time: T0 + 30_000,
            sequence: 101,
            closedQty: '2',
            openedQty: '0',
            kind: 'manual',
          },
        ],
      },
      orders: {
        status: 'known',
        orders: [order('sl-1', T0 - 60_000), order('tp-1', T0 - 60_000, 'take-profit')],
      },
      cap: { status: 'granted', windowId: 'w', slots: 3 },
    },
  ).decision;

  it.each([
    [
      [
        { orderId: 'sl-1', status: 'cancelled' },
        { orderId: 'tp-1', status: 'cancelled' },
      ],
      /^cancelled 2 orders \(SL\+TP\) orphaned by AAVEUSDT/,
      false,
    ],
    [
      [
        { orderId: 'sl-1', status: 'cancelled' },
        { orderId: 'tp-1', status: 'already-gone' },
      ],
      /^cancelled 2 orders .*; 1 of them was already gone$/,
      false,
    ],
    [
      [
        { orderId: 'sl-1', status: 'cancelled' },
        { orderId: 'tp-1', status: 'failed' },
      ],
      /^cancelled 1 of 2 orders .*; 1 of 2 cancels FAILED, to be retried after a fresh verification$/,
      true,
    ],
    [
      [
        { orderId: 'sl-1', status: 'skipped-shadow' },
        { orderId: 'tp-1', status: 'skipped-shadow' },
      ],
      /^shadow mode, nothing cancelled; a live run would cancel 2 orders/,
      false,
    ],
  ] as const)('%j', (cancels, says, failed) => {
    expect(decided.kind).toBe('cancel-orphans');
    const outcome = describeOutcome(decided, cancels);
    expect(outcome.message).toMatch(says);
    expect(outcome.failed).toBe(failed);
  });

  it('leaves every other decision as it was decided', () => {
    const kept = runToDecision(
      { suspect, now: T0 + 200_000, config },
      {
        recheck: { status: 'flat', checkedAt: T0 + 200_000 },
        snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 200_000, pages: 1, positions: [] },
        evidence: { status: 'known', searchedFrom: 0, searchedTo: T0 + 200_000, changes: [] },
        orders: { status: 'known', orders: [order('sl-1', T0 - 60_000)] },
        cap: { status: 'granted', windowId: 'w', slots: 1 },
      },
    ).decision;
    expect(describeOutcome(kept, undefined)).toEqual({ message: kept.message, failed: false });
  });
});

describe('decideConfirmation: the order of looks', () => {
  it('clears a false suspect with the single targeted re-check, fetching nothing else', () => {
    const { decision, steps } = runToDecision(
      { suspect, now: T0 + 6_000, config },
      {
        recheck: { status: 'open', checkedAt: T0 + 6_000, position: observedOpen },
        snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 6_000, pages: 1, positions: [] },
        evidence: { status: 'unknown', searchedFrom: 0, failure },
        orders: { status: 'unknown', failure },
        cap: { status: 'granted', windowId: 'w', slots: 1 },
      },
    );
    expect(steps).toEqual(['recheck']);
    expect(decision).toMatchObject({ kind: 'still-open', incompleteResponseObserved: true, alarm: false });
  });

  it('waits for history inside the grace period, then keeps the orders and raises the alarm', () => {
    const world = {
      recheck: { status: 'flat', checkedAt: T0 + 6_000 } as const,
      snapshot: {
        status: 'complete',
        snapshotId: 's2',
        fetchedAt: T0 + 6_100,
        pages: 1,
        positions: [],
      } as const,
      orders: {
        status: 'known',
        orders: [order('sl-1', T0 - 60_000), order('tp-1', T0 - 60_000, 'take-profit')],
      } as const,
      cap: { status: 'granted', windowId: 'w', slots: 2 } as const,
    };
    const early = runToDecision(
      { suspect, now: T0 + 6_000, config },
      { ...world, evidence: { status: 'known', searchedFrom: 0, searchedTo: T0 + 6_200, changes: [] } },
    );
    expect(early.decision).toMatchObject({
      kind: 'await-confirmation',
      reason: 'awaiting-history',
      alarm: false,
    });
    expect(early.steps).not.toContain('orders');

    const late = runToDecision(
      { suspect, now: T0 + 200_000, config },
      { ...world, evidence: { status: 'known', searchedFrom: 0, searchedTo: T0 + 200_000, changes: [] } },
    );
    expect(late.decision).toMatchObject({ kind: 'keep-orders', reason: 'no-close-evidence', alarm: true });
    expect(late.decision.message).toMatch(
      /^kept 2 orders \(SL\+TP\) on AAVEUSDT \(long, one-way\): absent in 2 fetches 6\.0 s apart but no close event since \d\d:\d\d:\d\d/,
    );
    expect(late.decision.message).not.toMatch(/clean|orphan/i);
  });

  it('stops tracking, without alarm or cancel, a vanished position that has no order left to protect', () => {
    const { decision } = runToDecision(
      { suspect, now: T0 + 200_000, config },
      {
        recheck: { status: 'absent', checkedAt: T0 + 200_000 },
        snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 200_000, pages: 1, positions: [] },
        evidence: { status: 'known', searchedFrom: 0, searchedTo: T0 + 200_000, changes: [] },
        orders: { status: 'known', orders: [] },
        cap: { status: 'granted', windowId: 'w', slots: 1 },
      },
    );
    expect(decision).toMatchObject({ kind: 'resolve-closed', reason: 'gone-no-orders-left', alarm: false });
  });

  it('does not treat two lists closer together than the confirm delay as two looks', () => {
    const { decision } = runToDecision(
      { suspect, now: T0 + 5_200, config },
      {
        recheck: { status: 'flat', checkedAt: T0 + 1_000 },
        snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 1_000, pages: 1, positions: [] },
        evidence: { status: 'unknown', searchedFrom: 0, failure },
        orders: { status: 'unknown', failure },
        cap: { status: 'granted', windowId: 'w', slots: 1 },
      },
    );
    expect(decision).toMatchObject({ kind: 'await-confirmation', reason: 'confirm-not-due' });
  });

  it('honours a rate-limit reset time when scheduling the next look', () => {
    const { decision } = runToDecision(
      { suspect, now: T0 + 6_000, config },
      {
        recheck: {
          status: 'unknown',
          checkedAt: T0 + 6_000,
          failure: { reason: 'rate-limited', detail: '10006', retryAt: T0 + 66_000 },
        },
        snapshot: { status: 'complete', snapshotId: 's2', fetchedAt: T0 + 6_000, pages: 1, positions: [] },
        evidence: { status: 'unknown', searchedFrom: 0, failure },
        orders: { status: 'unknown', failure },
        cap: { status: 'granted', windowId: 'w', slots: 1 },
      },
    );
    expect(decision).toMatchObject({
      kind: 'await-confirmation',
      reason: 'recheck-unknown',
      // The reset time, plus up to a second so waiters do not all return at once (here the whole second).
      retryAfterMs: 61_000,
    });
  });

  it('spreads retries over the back-off window (full jitter above the confirm delay), never sooner', () => {
    // Fourth attempt: ceiling 5 s × 2^3 = 40 s.
    expect(retryDelay(4, config, 0)).toBe(config.confirmDelayMs);
    expect(retryDelay(4, config, 0.5)).toBe(config.confirmDelayMs + 17_500);
    expect(retryDelay(4, config, 0.999)).toBeLessThanOrEqual(40_000);
    // The first retry is the confirm delay itself; the cap bounds the later ones.
    expect(retryDelay(1, config, 0.9)).toBe(config.confirmDelayMs);
    expect(retryDelay(30, config, 1)).toBe(config.maxRetryDelayMs);
  });
});
