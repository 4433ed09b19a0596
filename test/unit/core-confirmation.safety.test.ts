import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CloseEvidence, ObservedPosition, PositionChange } from '#core/types.js';
import {
  capArb,
  config,
  failure,
  fillsThatKeepItOpen,
  observedOpen,
  oldFills,
  order,
  ordersArb,
  position,
  recheckArb,
  renewalArb,
  runToDecision,
  snapshotArb,
  suspect,
  T0,
  type World,
} from '#test/support/confirmation.js';

/**
 * Safety of the confirmation, over arbitrary exchange behaviour: whatever the lists, the re-checks and
 * the cap say, and however much of the history is visible, a position that is still open never gets a
 * `cancel-orphans` decision, and nothing is cancelled unless the claim held and the last look was flat.
 */
describe('decideConfirmation: safety', () => {
  it('never cancels the orders of a position that is still open, whatever else the exchange says', () => {
    fc.assert(
      fc.property(
        fillsThatKeepItOpen,
        oldFills,
        fc.integer({ min: 0, max: 8 }),
        recheckArb,
        snapshotArb,
        ordersArb,
        capArb,
        fc.integer({ min: 0, max: 900_000 }),
        fc.integer({ min: 0, max: 6 }),
        renewalArb,
        recheckArb,
        (recent, old, visible, recheck, snapshot, orders, cap, elapsed, attempts, renewal, finalRecheck) => {
          // history lag shows a time-ordered prefix of what happened, mixed with older records
          const evidence: CloseEvidence = {
            status: 'known',
            searchedFrom: position.stateUpdatedAt,
            searchedTo: T0 + elapsed,
            changes: [...old, ...recent.slice(0, visible)],
          };
          const { decision } = runToDecision(
            { suspect: { ...suspect, attempts }, now: T0 + 5_100 + elapsed, config },
            { recheck, snapshot, evidence, orders, cap, renewal, finalRecheck },
          );
          expect(decision.kind).not.toBe('cancel-orphans');
          expect(decision.kind).not.toBe('defer-cap-spent');
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('never cancels when the history fetch fails, even if every list says the position is gone', () => {
    fc.assert(
      fc.property(ordersArb, capArb, (orders, cap) => {
        const { decision } = runToDecision(
          { suspect, now: T0 + 10_000, config },
          {
            recheck: { status: 'flat', checkedAt: T0 + 10_000 },
            snapshot: {
              status: 'complete',
              snapshotId: 's2',
              fetchedAt: T0 + 10_000,
              pages: 1,
              positions: [],
            },
            evidence: { status: 'unknown', searchedFrom: position.stateUpdatedAt, failure },
            orders,
            cap,
          },
        );
        expect(decision.kind).toBe('await-confirmation');
        expect(decision.kind === 'await-confirmation' && decision.reason).toBe('evidence-unknown');
      }),
    );
  });

  it('cancels only orders placed before the close, never while newer orders suggest a reopen, only with a granted cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -60_000, max: 60_000 }), { minLength: 1, maxLength: 4 }),
        capArb,
        fc.constantFrom('2', '1.5'),
        (ages, cap, firstClose) => {
          const closeAt = T0 + 30_000;
          // either one fill closes the whole size, or two fills do, the last one at closeAt
          const changes: PositionChange[] =
            firstClose === '2'
              ? [
                  {
                    id: 'e1',
                    source: 'execution',
                    time: closeAt,
                    sequence: 101,
                    closedQty: '2',
                    openedQty: '0',
                    kind: 'manual',
                  },
                ]
              : [
                  {
                    id: 'e1',
                    source: 'execution',
                    time: closeAt - 1,
                    sequence: 101,
                    closedQty: '1.5',
                    openedQty: '0',
                    kind: 'manual',
                  },
                  {
                    id: 'e2',
                    source: 'execution',
                    time: closeAt,
                    sequence: 102,
                    closedQty: '0.5',
                    openedQty: '0',
                    kind: 'stop-loss',
                  },
                ];
          const orders = ages.map((a, i) => order(`o-${i}`, closeAt + a));
          const { decision } = runToDecision(
            { suspect, now: T0 + 40_000, config },
            {
              recheck: { status: 'flat', checkedAt: T0 + 40_000 },
              snapshot: {
                status: 'complete',
                snapshotId: 's2',
                fetchedAt: T0 + 40_000,
                pages: 1,
                positions: [],
              },
              evidence: {
                status: 'known',
                searchedFrom: position.stateUpdatedAt,
                searchedTo: T0 + 40_000,
                changes,
              },
              orders: { status: 'known', orders },
              cap,
            },
          );
          const beforeClose = orders.filter((o) => (o.createdAt ?? Number.POSITIVE_INFINITY) <= closeAt);
          const afterClose = orders.filter((o) => (o.createdAt ?? 0) > closeAt);
          if (beforeClose.length === 0) {
            expect(decision.kind).toBe('resolve-closed');
          } else if (afterClose.length > 0) {
            // orders placed after the close look like a reopened position: nothing is touched
            expect(decision).toMatchObject({ kind: 'await-confirmation', reason: 'orders-after-close' });
          } else if (cap.status === 'refused' || cap.slots === 0) {
            expect(decision.kind).toBe('defer-cap-spent');
            expect(decision.alarm).toBe(true);
            expect(decision.message).toMatch(/^kept \d+ orders? .* although it/);
          } else {
            expect(decision.kind).toBe('cancel-orphans');
            if (decision.kind === 'cancel-orphans') {
              // Never more than the slots granted; what the cap did not cover is deferred, not dropped.
              const beforeIds = beforeClose.map((o) => o.orderId);
              expect(decision.orders.length).toBe(Math.min(cap.slots, beforeClose.length));
              for (const o of decision.orders) expect(beforeIds).toContain(o.orderId);
              expect(decision.orders.length + decision.ordersDeferred).toBe(beforeClose.length);
              expect(decision.message).toMatch(
                /^\d+ orders? .* orphaned by AAVEUSDT \(long, one-way\): it closed by/,
              );
              // Orders held back by the cap are said, and raise the alarm like a refusal.
              expect(decision.alarm).toBe(decision.ordersDeferred > 0);
              if (decision.ordersDeferred > 0)
                expect(decision.message).toMatch(/kept \d+ more for a later cap window/);
            }
          }
        },
      ),
    );
  });
});

describe('decideConfirmation: the last moment before a cancel', () => {
  const closed: World = {
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
          kind: 'stop-loss',
        },
      ],
    },
    orders: { status: 'known', orders: [order('tp-1', T0 - 60_000, 'take-profit')] },
    cap: { status: 'granted', windowId: 'w', slots: 3 },
  };
  const reopened: ObservedPosition = { ...observedOpen, size: '1', updatedAt: T0 + 39_000, sequence: 102 };

  it('renews the claim and re-checks the position after the cap, as the very last steps', () => {
    const { decision, steps } = runToDecision({ suspect, now: T0 + 40_000, config }, closed);
    expect(steps).toEqual([
      'recheck',
      'snapshot',
      'evidence',
      'orders',
      'cap',
      'renew-claim',
      'final-recheck',
    ]);
    expect(decision).toMatchObject({ kind: 'cancel-orphans', alarm: false });
    expect(decision.message).toMatch(/re-check flat, last re-check flat$/);
  });

  it('cancels nothing, whatever was proven, unless the claim held and the last re-check shows no open position', () => {
    fc.assert(
      fc.property(renewalArb, recheckArb, (renewal, finalRecheck) => {
        const { decision } = runToDecision(
          { suspect, now: T0 + 40_000, config },
          { ...closed, renewal, finalRecheck },
        );
        const mayCancel = renewal === 'held' && finalRecheck.status === 'flat';
        expect(decision.kind === 'cancel-orphans').toBe(mayCancel);
        if (renewal !== 'held') expect(decision).toMatchObject({ kind: 'stand-down', reason: renewal });
        else if (finalRecheck.status === 'unknown')
          expect(decision).toMatchObject({ kind: 'await-confirmation', reason: 'recheck-unknown' });
        else if (finalRecheck.status === 'absent')
          expect(decision).toMatchObject({ kind: 'await-confirmation', reason: 'recheck-not-listed' });
        if (!mayCancel) expect(decision.message).not.toMatch(/orphaned by/);
      }),
    );
  });

  it('spends no cap slot on a position no by-symbol answer lists, and keeps loudly once history had its grace', () => {
    const notListed = { status: 'absent', checkedAt: T0 + 40_000 } as const;
    const early = runToDecision({ suspect, now: T0 + 40_000, config }, { ...closed, recheck: notListed });
    expect(early.steps).not.toContain('cap');
    expect(early.decision).toMatchObject({
      kind: 'await-confirmation',
      reason: 'recheck-not-listed',
      alarm: false,
    });
    const late = runToDecision(
      { suspect, now: T0 + 200_000, config },
      {
        ...closed,
        recheck: notListed,
        evidence:
          closed.evidence.status === 'known'
            ? { ...closed.evidence, searchedTo: T0 + 200_000 }
            : closed.evidence,
      },
    );
    expect(late.steps).not.toContain('cap');
    expect(late.decision).toMatchObject({ kind: 'keep-orders', reason: 'not-listed-by-symbol', alarm: true });
    expect(late.decision.message).toMatch(
      /^kept 1 order \(TP\) on AAVEUSDT .* does not list the position at all/,
    );
  });

  it('says a position reopened before the cancels was left alone, and alarms only if its state never changed', () => {
    const again = runToDecision(
      { suspect, now: T0 + 40_000, config },
      { ...closed, finalRecheck: { status: 'open', checkedAt: T0 + 40_000, position: reopened } },
    ).decision;
    expect(again).toMatchObject({ kind: 'still-open', reason: 'present-in-final-recheck', alarm: false });
    expect(again.message).toMatch(
      /^AAVEUSDT \(long, one-way\) is open again \(size 1\) in the last re-check before cancelling, although it closed by stop-loss fill e1 .*; cancelled nothing/,
    );
    const same = runToDecision(
      { suspect, now: T0 + 40_000, config },
      { ...closed, finalRecheck: { status: 'open', checkedAt: T0 + 40_000, position: observedOpen } },
    ).decision;
    expect(same).toMatchObject({ kind: 'still-open', reason: 'present-in-final-recheck', alarm: true });
    expect(same.message).toMatch(/the exchange disagrees with itself; cancelled nothing/);
  });
});
