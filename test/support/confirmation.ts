import fc from 'fast-check';
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
 * One suspect, and arbitraries of everything the exchange and the cap may answer about it, for the
 * tests of the confirmation's decisions (core-confirmation.*.test.ts).
 */

export const T0 = 1_750_000_000_000;
export const config = defaultReconcileConfig;

export const failure: SnapshotFailure = { reason: 'http-error', detail: 'HTTP 502' };

export const position: TrackedPosition = {
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
export const fillsThatKeepItOpen = fc
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
export const oldFills = fc.array(
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

export const observedOpen: ObservedPosition = {
  symbol: position.symbol,
  positionIdx: 0,
  side: 'long',
  size: '2',
  updatedAt: T0,
  sequence: 100,
};

export const snapshotArb: fc.Arbitrary<PositionSnapshot> = fc
  .record({ complete: fc.boolean(), includesIt: fc.boolean(), at: fc.integer({ min: 0, max: 600_000 }) })
  .map(({ complete, includesIt, at }) => {
    const positions = includesIt ? [observedOpen] : [];
    return complete
      ? { status: 'complete', snapshotId: 'snap-c', fetchedAt: T0 + at, pages: 1, positions }
      : { status: 'unknown', snapshotId: 'snap-c', fetchedAt: T0 + at, pages: 1, positions, failure };
  });

export const recheckArb: fc.Arbitrary<PositionRecheck> = fc.constantFrom<PositionRecheck>(
  { status: 'open', checkedAt: T0 + 6_000, position: observedOpen },
  { status: 'flat', checkedAt: T0 + 6_000 },
  { status: 'absent', checkedAt: T0 + 6_000 },
  { status: 'unknown', checkedAt: T0 + 6_000, failure },
);

export const order = (
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

export const ordersArb: fc.Arbitrary<OpenProtectiveOrders> = fc.oneof(
  fc.constant<OpenProtectiveOrders>({ status: 'unknown', failure }),
  fc
    .array(fc.integer({ min: -10_000, max: 600_000 }), { maxLength: 3 })
    .map((ages) => ({ status: 'known' as const, orders: ages.map((a, i) => order(`o-${i}`, T0 + a)) })),
);

export const capArb: fc.Arbitrary<CapVerdict> = fc.constantFrom<CapVerdict>(
  { status: 'granted', windowId: 'w', slots: 3 },
  { status: 'granted', windowId: 'w', slots: 1 },
  // A budget of 0 (an account set to "no cancels"): a refusal in all but name.
  { status: 'granted', windowId: 'w', slots: 0 },
  { status: 'refused', windowId: 'w', scope: 'account', limit: 3 },
);

export const renewalArb: fc.Arbitrary<ClaimRenewal> = fc.constantFrom<ClaimRenewal>(
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

export type World = {
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
export function runToDecision(
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

export const suspect: SuspectRecord = {
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
