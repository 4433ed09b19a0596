import type { ReconcileConfig } from './config.js';
import { positionIdOf } from './keys.js';
import type { PositionSnapshot, SuspectRecord, TrackedPosition } from './types.js';

/**
 * The life of a suspect, in one place. The store persists these records with conditional writes; the
 * orchestration decides when each transition happens:
 * - `newSuspect`: a complete, believed list lacked a tracked position (the check);
 * - claim: a confirmation takes it for one attempt (`claimedUntil` set, `attempts` + 1; the store's
 *   `claimSuspect`), and renews that claim right before cancelling (`renewedClaim`);
 * - `suspectAfterAttempt`: the attempt ended undecided; the claim is released, the next look scheduled;
 * - `resentSuspect`: a check found its confirmation long overdue (the message was lost);
 * - the end: deleted when the position is seen open, proven closed and dealt with, or voided by a newer
 *   state the bot registered.
 */

/** Ids kept from the head and from the tail of a suspect's missing looks. */
const HEAD_IDS = 2;
const TAIL_IDS = 3;

/** The record of a position first seen missing in `snapshot`. */
export function newSuspect(
  position: TrackedPosition,
  snapshot: PositionSnapshot,
  now: number,
  config: ReconcileConfig,
): SuspectRecord {
  return {
    accountId: position.accountId,
    symbol: position.symbol,
    positionIdx: position.positionIdx,
    position,
    firstMissingSnapshotId: snapshot.snapshotId,
    firstMissingAt: snapshot.fetchedAt,
    attempts: 0,
    missingLooks: 1,
    lastMissingAt: snapshot.fetchedAt,
    missingSnapshotIds: [snapshot.snapshotId],
    nextAttemptAt: now + config.confirmDelayMs,
  };
}

/**
 * The suspect as stored after an attempt that left it undecided: the claim is released, a complete
 * list that lacked the position is counted (the "absent in N fetches" of later sentences), and the
 * next look is due at `nextAttemptAt`.
 */
export function suspectAfterAttempt(
  claimed: SuspectRecord,
  snapshot: PositionSnapshot | undefined,
  nextAttemptAt: number,
): SuspectRecord {
  const { claimedUntil: _released, ...unclaimed } = claimed;
  const lacksIt =
    snapshot?.status === 'complete' &&
    !snapshot.positions.some((p) => positionIdOf(p) === positionIdOf(claimed)) &&
    claimed.missingSnapshotIds[claimed.missingSnapshotIds.length - 1] !== snapshot.snapshotId;
  if (!lacksIt) return { ...unclaimed, nextAttemptAt };
  return { ...unclaimed, nextAttemptAt, ...withMissingLook(claimed, snapshot) };
}

/**
 * Whether an undecided suspect is stuck: so many attempts, or so long since it went missing, that more
 * of the same will not decide it. Stuck suspects are looked at every `stuckLookMs`, alarmed once.
 */
export function isStuck(suspect: SuspectRecord, now: number, config: ReconcileConfig): boolean {
  const from = suspect.stuckCountFrom ?? { attempts: 0, at: suspect.firstMissingAt };
  return (
    suspect.stuckSince !== undefined ||
    suspect.attempts - from.attempts >= config.stuckAfterAttempts ||
    now - from.at >= config.stuckAfterMs
  );
}

/** The claim held a while longer: given a whole lease for the cancels that follow. */
export function renewedClaim(held: SuspectRecord, leaseUntil: number): SuspectRecord {
  return { ...held, claimedUntil: leaseUntil };
}

/** A suspect whose confirmation never ran: due again `delayMs` from now. */
export function resentSuspect(suspect: SuspectRecord, now: number, delayMs: number): SuspectRecord {
  return { ...suspect, nextAttemptAt: now + delayMs };
}

/** The missing-look fields once one more complete list lacked the position. */
export function withMissingLook(
  suspect: Pick<SuspectRecord, 'missingLooks' | 'missingSnapshotIds'>,
  snapshot: Pick<PositionSnapshot, 'snapshotId' | 'fetchedAt'>,
): Pick<SuspectRecord, 'missingLooks' | 'lastMissingAt' | 'missingSnapshotIds'> {
  return {
    missingLooks: suspect.missingLooks + 1,
    lastMissingAt: snapshot.fetchedAt,
    missingSnapshotIds: boundedIds(suspect.missingSnapshotIds, snapshot.snapshotId),
  };
}

/**
 * Appends `id`, keeping the first `HEAD_IDS` and the last `TAIL_IDS` ids: the first miss and the latest
 * ones are what a reader of the audit trail looks up; the count says how many lie between.
 */
export function boundedIds(ids: readonly string[], id: string): readonly string[] {
  const all = [...ids, id];
  if (all.length <= HEAD_IDS + TAIL_IDS) return all;
  return [...all.slice(0, HEAD_IDS), ...all.slice(-TAIL_IDS)];
}
