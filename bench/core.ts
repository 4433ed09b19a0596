import { defaultReconcileConfig } from '#core/config.js';
import { decideConfirmation } from '#core/confirmation.js';
import { positionIdOf } from '#core/keys.js';
import { assessSnapshot } from '#core/snapshot.js';
import { newSuspect } from '#core/suspect.js';
import type { ObservedPosition, PositionSnapshot, SuspectRecord, TrackedPosition } from '#core/types.js';

/** Times the pure core alone, with no I/O and no clock: the first look and the second look. */

/** Decisions per second of the pure core, on inputs shaped like a steady account and a real close. */
export interface CoreBenchResult {
  readonly checkDecisionsPerSecond: number;
  readonly confirmDecisionsPerSecond: number;
  readonly positionsPerAccount: number;
}

const T0 = Date.UTC(2026, 10, 25);

export function benchCore(positionsPerAccount = 10, iterations = 200_000): CoreBenchResult {
  const tracked: TrackedPosition[] = Array.from({ length: positionsPerAccount }, (_, i) => ({
    accountId: 'acct-1',
    symbol: `S${i}USDT`,
    positionIdx: 0,
    side: 'long',
    size: '1.5',
    lastSeenOpenAt: T0,
    lastSeenSnapshotId: 'snap-0',
    stateUpdatedAt: T0 - 1_000,
    stateSequence: 100 + i,
    protectiveOrders: [],
  }));
  const observed: ObservedPosition[] = tracked.map((t) => ({
    symbol: t.symbol,
    positionIdx: t.positionIdx,
    side: t.side,
    size: t.size,
    updatedAt: t.stateUpdatedAt,
    sequence: t.stateSequence ?? 0,
  }));
  // one position missing, as in a glitching list
  const snapshot: PositionSnapshot = {
    status: 'complete',
    snapshotId: 'snap-1',
    fetchedAt: T0 + 10_000,
    pages: 1,
    positions: observed.slice(1),
  };
  const suspects = new Map<string, SuspectRecord>();

  let sink = 0;
  let started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const result = assessSnapshot({
      accountId: 'acct-1',
      tracked,
      snapshot,
      suspects,
      consecutiveDistrusted: 0,
      now: T0 + 10_000,
      config: defaultReconcileConfig,
    });
    sink += result.decisions.length;
  }
  const checkDecisionsPerSecond = (iterations * positionsPerAccount) / ((performance.now() - started) / 1000);

  const first = tracked[0] as TrackedPosition;
  const suspect = newSuspect(first, snapshot, T0 + 10_000, defaultReconcileConfig);
  const input = {
    suspect,
    now: T0 + 16_000,
    config: defaultReconcileConfig,
    recheck: { status: 'flat', checkedAt: T0 + 16_000 },
    snapshot: { ...snapshot, snapshotId: 'snap-2', fetchedAt: T0 + 16_000 },
    evidence: {
      status: 'known',
      searchedFrom: first.stateUpdatedAt,
      searchedTo: T0 + 16_000,
      changes: [
        {
          id: 'e1',
          source: 'execution',
          time: T0 + 12_000,
          sequence: 200,
          closedQty: '1.5',
          openedQty: '0',
          kind: 'stop-loss',
        },
      ],
    },
    orders: {
      status: 'known',
      orders: [
        {
          orderId: 'tp-1',
          symbol: first.symbol,
          positionIdx: 0,
          kind: 'take-profit',
          createdAt: T0 - 60_000,
        },
      ],
    },
    cap: { status: 'granted', windowId: 'w', slots: 1 },
  } as const;
  const confirmIterations = iterations / 2;
  started = performance.now();
  for (let i = 0; i < confirmIterations; i++) {
    const decision = decideConfirmation(input);
    if (decision.kind === 'cancel-orphans') sink++;
  }
  const confirmDecisionsPerSecond = confirmIterations / ((performance.now() - started) / 1000);
  if (sink === 0 || positionIdOf(first) === '') throw new Error('benchmark computed nothing');
  return { checkDecisionsPerSecond, confirmDecisionsPerSecond, positionsPerAccount };
}
