import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultReconcileConfig } from '#core/config.js';
import { type ConfirmationInput, decideConfirmation } from '#core/confirmation.js';
import type { ClaimRenewal, ConfirmationStep, Decision } from '#core/decision.js';
import type {
  CapVerdict,
  CloseEvidence,
  ObservedPosition,
  OpenProtectiveOrders,
  PositionChange,
  PositionRecheck,
  PositionSnapshot,
  ProtectiveOrder,
  SnapshotFailure,
  SuspectRecord,
  TrackedPosition,
} from '#core/types.js';

/**
 * Safety of the confirmation, over arbitrary exchange behaviour: whatever the lists, the re-check and
 * the cap say, and however much of the history is visible, a position that is still open never gets
 * a `cancel-orphans` decision.
 */

const T0 = 1_750_000_000_000;
const config = defaultReconcileConfig;

const failure: SnapshotFailure = { reason: 'http-error', detail: 'HTTP 502' };

const position: TrackedPosition = {
  accountId: 'acct-1',
  symbol: 'AAVEUSDT',
  positionIdx: 0,
  side: 'long',
  size: '2',
  lastSeenOpenAt: T0,
  lastSeenSnapshotId: 'snap-0',
  stateUpdatedAt: T0 - 1_000,
  stateSequence: 100,
  protectiveOrders: [],
};

/** Fills after the last seen state that never take the position to zero (it stays open). */
const fillsThatKeepItOpen = fc
  .array(
    fc.record({
      closes: fc.boolean(),
      units: fc.integer({ min: 1, max: 3 }),
      kind: fc.constantFrom('manual', 'stop-loss', 'liquidation'),
    }),
    { maxLength: 8 },
  )
  .map((steps) => {
    let size = 4; // position.size "2", counted in halves
    const changes: PositionChange[] = [];
    steps.forEach((s, i) => {
      // a close that would reach zero is turned into a smaller one: the position stays open
      const units = s.closes ? Math.min(s.units, size - 1) : s.units;
      if (units <= 0) return;
      size += s.closes ? -units : units;
      changes.push({
        id: `exec-${i}`,
        source: 'execution',
        time: T0 + 1_000 * (i + 1),
        sequence: 101 + i,
        closedQty: s.closes ? String(units / 2) : '0',
        openedQty: s.closes ? '0' : String(units / 2),
        kind: s.kind,
      });
    });
    return changes;
  });

/** Old fills, at or before the last seen state: already reflected in `size`, including full closes. */
const oldFills = fc.array(
  fc.record({ seq: fc.integer({ min: 0, max: 100 }), qty: fc.constantFrom('2', '5', '0.5') }).map(
    ({ seq, qty }): PositionChange => ({
      id: `old-${seq}`,
      source: 'execution',
      time: T0 - 5_000 + seq,
      sequence: seq,
      closedQty: qty,
      openedQty: '0',
      kind: 'stop-loss',
    }),
  ),
  { maxLength: 4 },
);

const observedOpen: ObservedPosition = {
  symbol: position.symbol,
  positionIdx: 0,
  side: 'long',
  size: '2',
  updatedAt: T0,
  sequence: 100,
};

const snapshotArb: fc.Arbitrary<PositionSnapshot> = fc
  .record({ complete: fc.boolean(), includesIt: fc.boolean(), at: fc.integer({ min: 0, max: 600_000 }) })
  .map(({ complete, includesIt, at }) => {
    const positions = includesIt ? [observedOpen] : [];
    return complete
      ? { status: 'complete', snapshotId: 'snap-c', fetchedAt: T0 + at, pages: 1, positions }
      : { status: 'unknown', snapshotId: 'snap-c', fetchedAt: T0 + at, pages: 1, positions, failure };
  });

const recheckArb: fc.Arbitrary<PositionRecheck> = fc.constantFrom<PositionRecheck>(
  { status: 'open', checkedAt: T0 + 6_000, position: observedOpen },
  { status: 'flat', checkedAt: T0 + 6_000 },
  { status: 'absent', checkedAt: T0 + 6_000 },
  { status: 'unknown', checkedAt: T0 + 6_000, failure },
);

const order = (
  id: string,
  createdAt: number,
  kind: ProtectiveOrder['kind'] = 'stop-loss',
): ProtectiveOrder => ({
  orderId: id,
  symbol: position.symbol,
  positionIdx: 0,
  kind,
  createdAt,
});

const ordersArb: fc.Arbitrary<OpenProtectiveOrders> = fc.oneof(
  fc.constant<OpenProtectiveOrders>({ status: 'unknown', failure }),
  fc
    .array(fc.integer({ min: -10_000, max: 600_000 }), { maxLength: 3 })
    .map((ages) => ({ status: 'known' as const, orders: ages.map((a, i) => order(`o-${i}`, T0 + a)) })),
);

const capArb: fc.Arbitrary<CapVerdict> = fc.constantFrom<CapVerdict>(
  { status: 'granted', windowId: 'w', slots: 3 },
  { status: 'granted', windowId: 'w', slots: 1 },
  // A budget of 0 (an account set to "no cancels"): a refusal in all but name.
  { status: 'granted', windowId: 'w', slots: 0 },
  { status: 'refused', windowId: 'w', scope: 'account', limit: 3 },
);

const renewalArb: fc.Arbitrary<ClaimRenewal> = fc.constantFrom<ClaimRenewal>(
  'held',
  'claim-lost',
  'newer-state-registered',
);

/** The input field that answers each step. */
const answerField = {
  recheck: 'recheck',
  snapshot: 'snapshot',
  evidence: 'evidence',
  orders: 'orders',
  cap: 'cap',
  'renew-claim': 'renewal',
  'final-recheck': 'finalRecheck',
} as const satisfies Record<ConfirmationStep['step'], keyof ConfirmationInput>;

type World = {
  recheck: PositionRecheck;
  snapshot: PositionSnapshot;
  evidence: CloseEvidence;
  orders: OpenProtectiveOrders;
  cap: CapVerdict;
  /** Default: the claim is still held. */
  renewal?: ClaimRenewal;
  /** Default: the last re-check finds the position flat. */
  finalRecheck?: PositionRecheck;
};

/** Runs the confirmation to a decision, answering each `need` from the generated world. */
function runToDecision(
  base: Pick<ConfirmationInput, 'suspect' | 'now' | 'config'>,
  world: World,
): { decision: Decision; steps: ConfirmationStep['step'][] } {
  const answers = {
    renewal: 'held' as const,
    finalRecheck: { status: 'flat', checkedAt: base.now } as const,
    ...world,
  };
  let input: ConfirmationInput = base;
  const steps: ConfirmationStep['step'][] = [];
  for (let i = 0; i < 10; i++) {
    const result = decideConfirmation(input);
    if (result.kind !== 'need') return { decision: result, steps };
    steps.push(result.step);
    const field = answerField[result.step];
    input = { ...input, [field]: answers[field] };
  }
  throw new Error(`confirmation did not converge: ${steps.join(',')}`);
}

const suspect: SuspectRecord = {
  accountId: position.accountId,
  symbol: position.symbol,
  positionIdx: 0,
  position,
  firstMissingSnapshotId: 'snap-1',
  firstMissingAt: T0 + 100,
  attempts: 0,
  missingLooks: 1,
  lastMissingAt: T0 + 100,
  missingSnapshotIds: ['snap-1'],
  nextAttemptAt: T0 + 5_100,
};

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
              expect(decision.message).toMatch(/^cancelling \d+ orders? .* orphaned by AAVEUSDT/);
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
        if (!mayCancel) expect(decision.message).not.toMatch(/^cancelling/);
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
      retryAfterMs: 60_000,
    });
  });
});
