import type { ObservedPosition, TrackedPosition } from './types.js';

/** What orders two states of one position. */
export type StateVersion = Pick<TrackedPosition, 'stateUpdatedAt' | 'stateSequence'>;

/**
 * The one rule that orders two states of a position: by the exchange's per-symbol sequence when both
 * carry one (clock-free), else by the exchange's update time. Every "newer / older / same state"
 * question goes through here; the DynamoDB adapter's condition expressions are this rule written for
 * the server (`stateConditions` in adapters/dynamodb/state-conditions.ts) and are contract-tested
 * against it.
 */
export function compareStates(a: StateVersion, b: StateVersion): -1 | 0 | 1 {
  const [x, y] =
    a.stateSequence !== undefined && b.stateSequence !== undefined
      ? [a.stateSequence, b.stateSequence]
      : [a.stateUpdatedAt, b.stateUpdatedAt];
  return x > y ? 1 : x < y ? -1 : 0;
}

export function isNewerState(candidate: StateVersion, known: StateVersion): boolean {
  return compareStates(candidate, known) > 0;
}

/** The state an observation shows, in the ledger's terms. */
export function versionOf(observed: Pick<ObservedPosition, 'updatedAt' | 'sequence'>): StateVersion {
  return observed.sequence === undefined
    ? { stateUpdatedAt: observed.updatedAt }
    : { stateUpdatedAt: observed.updatedAt, stateSequence: observed.sequence };
}
