import type { ReconcileConfig } from './config.js';
import type { Decision, StillOpen } from './decision.js';
import { isSameState } from './evidence.js';
import { positionIdOf } from './keys.js';
import { clockTime, countOf, describePosition } from './narrate.js';
import { compareStates, versionOf } from './state-order.js';
import type {
  ObservedPosition,
  PositionKey,
  PositionSnapshot,
  SuspectRecord,
  TrackedPosition,
} from './types.js';

/** How far a snapshot may be believed about what it lacks. */
export type SnapshotTrust =
  /** Protocol-complete and plausible: absences become suspects. */
  | 'believed'
  /** A fetch failed somewhere: absences mean nothing. */
  | 'unknown'
  /** Complete but lacks too much at once (self-preservation): absences mean nothing. */
  | 'distrusted'
  /** Distrusted several times in a row: absences become suspects, still needing proof to act. */
  | 'mass-absence-believed';

export interface SnapshotAssessmentInput {
  readonly accountId: string;
  readonly tracked: readonly TrackedPosition[];
  readonly snapshot: PositionSnapshot;
  /** Open suspects of the account, by `positionIdOf`. */
  readonly suspects: ReadonlyMap<string, SuspectRecord>;
  /** Distrusted snapshots in a row before this one (from the account's state). */
  readonly consecutiveDistrusted: number;
  /** Our clock, for retry bookkeeping. */
  readonly now: number;
  readonly config: ReconcileConfig;
}

export interface SnapshotAssessment {
  readonly trust: SnapshotTrust;
  readonly trackedCount: number;
  readonly missingCount: number;
  /** Value to store for the next assessment. */
  readonly consecutiveDistrusted: number;
  /** One decision per tracked position. */
  readonly decisions: readonly Decision[];
  /** Tracked positions to write: new ones first seen now, and known ones refreshed. */
  readonly ledgerUpserts: readonly TrackedPosition[];
  /** Account-level sentence when the snapshot was not believed, for the audit and the alarm. */
  readonly accountEvent?: string;
}

/**
 * The first look (the scheduled `check`): compares one snapshot with the ledger. It never decides to
 * cancel anything: at most a position becomes a suspect that a later, delayed look must confirm.
 */
export function assessSnapshot(input: SnapshotAssessmentInput): SnapshotAssessment {
  const { snapshot, tracked, config } = input;
  const seen = new Map(snapshot.positions.map((p) => [positionIdOf(p), p] as const));
  const missing = tracked.filter((t) => !seen.has(positionIdOf(t)));
  const trust = trustOf(snapshot, tracked.length, missing.length, input.consecutiveDistrusted, config);
  const consecutiveDistrusted =
    trust === 'distrusted' || trust === 'mass-absence-believed'
      ? input.consecutiveDistrusted + 1
      : trust === 'believed'
        ? 0
        : input.consecutiveDistrusted;

  const decisions = tracked.map((position) =>
    decideOnSnapshot(position, seen.get(positionIdOf(position)), trust, input),
  );
  const ledgerUpserts = refreshLedger(input, seen);
  const base = { trust, trackedCount: tracked.length, missingCount: missing.length, consecutiveDistrusted };
  const event = describeTrust(trust, snapshot, tracked.length, missing.length, consecutiveDistrusted);
  return event === undefined
    ? { ...base, decisions, ledgerUpserts }
    : { ...base, decisions, ledgerUpserts, accountEvent: event };
}

function trustOf(
  snapshot: PositionSnapshot,
  trackedCount: number,
  missingCount: number,
  consecutiveDistrusted: number,
  config: ReconcileConfig,
): SnapshotTrust {
  if (snapshot.status === 'unknown') return 'unknown';
  const implausible =
    missingCount >= config.distrustMinMissing && missingCount >= config.distrustFraction * trackedCount;
  if (!implausible) return 'believed';
  return consecutiveDistrusted + 1 >= config.massAbsenceConfirmations
    ? 'mass-absence-believed'
    : 'distrusted';
}

function describeTrust(
  trust: SnapshotTrust,
  snapshot: PositionSnapshot,
  trackedCount: number,
  missingCount: number,
  streak: number,
): string | undefined {
  const lacks = `lacks ${missingCount} of ${countOf(trackedCount, 'tracked position')}`;
  switch (trust) {
    case 'believed':
      return undefined;
    case 'unknown':
      return snapshot.status === 'unknown'
        ? `snapshot ${snapshot.snapshotId} is incomplete (${snapshot.failure.reason}: ${snapshot.failure.detail}); concluded nothing from what it lacks`
        : undefined;
    case 'distrusted':
      return `distrusted snapshot ${snapshot.snapshotId}: it ${lacks}, too many at once to believe; raised no suspects`;
    case 'mass-absence-believed':
      return `snapshot ${snapshot.snapshotId} ${lacks} in ${streak} snapshots in a row; raising suspects, which still need a second look and close events before any order is touched`;
  }
}

function decideOnSnapshot(
  position: TrackedPosition,
  observed: ObservedPosition | undefined,
  trust: SnapshotTrust,
  input: SnapshotAssessmentInput,
): Decision {
  const { snapshot, config, now } = input;
  const key = { accountId: position.accountId, symbol: position.symbol, positionIdx: position.positionIdx };
  const what = describePosition(position.symbol, position.side, position.positionIdx);
  const suspect = input.suspects.get(positionIdOf(position));
  const snapshotIds = [snapshot.snapshotId];

  if (observed !== undefined) {
    if (suspect === undefined) {
      return {
        kind: 'still-open',
        reason: 'present-in-snapshot',
        key,
        alarm: false,
        incompleteResponseObserved: false,
        snapshotIds,
        message: `${what} is open (size ${observed.size})`,
      };
    }
    return reappeared(what, key, suspect, observed, snapshot.snapshotId, 'present-in-snapshot');
  }

  if (suspect !== undefined) {
    const overdue = now > suspect.nextAttemptAt + config.overdueConfirmMs;
    return {
      kind: 'await-confirmation',
      reason: overdue ? 'confirm-overdue' : 'already-suspect',
      key,
      alarm: false,
      retryAfterMs: overdue ? 0 : Math.max(0, suspect.nextAttemptAt - now),
      resendConfirmation: overdue,
      snapshotIds,
      message: overdue
        ? `${what} is still absent and its confirmation, due at ${clockTime(suspect.nextAttemptAt)}, never ran; sending it again. No order touched`
        : `${what} is still absent (suspect since ${clockTime(suspect.firstMissingAt)}); its confirmation is pending. No order touched`,
    };
  }

  if (trust === 'unknown' || trust === 'distrusted') {
    return {
      kind: 'hold',
      reason: trust === 'unknown' ? 'snapshot-unknown' : 'snapshot-distrusted',
      key,
      alarm: false,
      snapshotIds,
      message:
        trust === 'unknown'
          ? `${what} is not in snapshot ${snapshot.snapshotId}, but that snapshot is incomplete: concluded nothing, no order touched`
          : `${what} is not in snapshot ${snapshot.snapshotId}, but that snapshot lacks too many positions to be believed: no suspect raised, no order touched`,
    };
  }

  return {
    kind: 'raise-suspect',
    reason: trust === 'believed' ? 'absent-from-snapshot' : 'absent-in-persistent-mass-absence',
    key,
    alarm: trust === 'mass-absence-believed',
    snapshotIds,
    message: `${what} (last seen open at ${clockTime(position.lastSeenOpenAt)}) is absent from snapshot ${snapshot.snapshotId}; suspect only: nothing is touched before a second look in ${config.confirmDelayMs / 1000} s and a close event in history`,
  };
}

/**
 * A suspect seen open again. Unchanged, it proves the list that lacked it was incomplete (the glitch
 * rate operators watch); changed, it traded or was closed and reopened meanwhile, which proves nothing
 * about the list.
 */
export function reappeared(
  what: string,
  key: PositionKey,
  suspect: SuspectRecord,
  observed: ObservedPosition,
  seenIn: string,
  reason: 'present-in-snapshot' | 'present-in-recheck',
): StillOpen {
  const unchanged = isSameState(observed, suspect.position);
  const absentFrom = suspect.missingSnapshotIds.join(', ');
  return {
    kind: 'still-open',
    reason,
    key,
    alarm: false,
    incompleteResponseObserved: unchanged,
    snapshotIds: [...suspect.missingSnapshotIds, seenIn],
    message: unchanged
      ? `${what} is open and unchanged (size ${observed.size}) in ${seenIn} after being absent from ${absentFrom}: that response was incomplete; suspect cleared, no order touched`
      : `${what} is open again (size ${observed.size}, changed since last seen) in ${seenIn} after being absent from ${absentFrom}: it traded or was reopened meanwhile; suspect cleared, no order touched`,
  };
}

/**
 * New positions join the ledger; known ones are refreshed, unless the observation is older than what
 * we already know (a stale answer), which must not roll the recorded state back.
 */
function refreshLedger(
  input: SnapshotAssessmentInput,
  seen: ReadonlyMap<string, ObservedPosition>,
): readonly TrackedPosition[] {
  const known = new Map(input.tracked.map((t) => [positionIdOf(t), t] as const));
  const upserts: TrackedPosition[] = [];
  for (const [id, observed] of seen) {
    const previous = known.get(id);
    if (previous !== undefined && compareStates(versionOf(observed), previous) < 0) continue;
    upserts.push(trackedFrom(input.accountId, observed, input.snapshot, previous));
  }
  return upserts;
}

/** The ledger entry for a position seen open in `snapshot`. */
export function trackedFrom(
  accountId: string,
  observed: ObservedPosition,
  snapshot: PositionSnapshot,
  previous: TrackedPosition | undefined,
): TrackedPosition {
  const base = {
    accountId,
    symbol: observed.symbol,
    positionIdx: observed.positionIdx,
    side: observed.side,
    size: observed.size,
    lastSeenOpenAt: snapshot.fetchedAt,
    lastSeenSnapshotId: snapshot.snapshotId,
    stateUpdatedAt: observed.updatedAt,
    protectiveOrders: previous?.protectiveOrders ?? [],
  };
  return observed.sequence === undefined ? base : { ...base, stateSequence: observed.sequence };
}
