import type { ClaimRenewal } from '#core/decision.js';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import type { StateVersion } from '#core/state-order.js';
import type { PositionKey, SuspectRecord, TrackedPosition } from '#core/types.js';

/** Per-account bookkeeping that survives between invocations. */
export interface AccountState {
  readonly accountId: string;
  /** Distrusted snapshots in a row (self-preservation streak). */
  readonly consecutiveDistrusted: number;
  /** Exchange time of the last complete snapshot, for the staleness metric and alarm. */
  readonly lastCompleteSnapshotAt?: number;
  /** Our time of the account's first check: its staleness counts from here until a list is complete. */
  readonly firstCheckedAt?: number;
}

/** Everything the check needs about one account, loaded in one read. */
export interface AccountView {
  readonly tracked: readonly TrackedPosition[];
  readonly suspects: readonly SuspectRecord[];
  readonly state: AccountState;
  /** Live positions the protection audit found short of a stop (written by checks only). */
  readonly watches: readonly ProtectionWatch[];
  /** What the bot said about positions' stops when registering them (written by register only). */
  readonly intents: readonly ProtectionIntent[];
}

/**
 * Durable state: the ledger of tracked positions, the suspects and per-account state.
 * Writes that guard safety are conditional, so concurrent or duplicated invocations cannot act twice.
 * States of a position are ordered by `compareStates` (core/state-order.ts).
 */
export interface ReconciliationStore {
  loadAccountView(accountId: string): Promise<AccountView>;
  upsertTracked(positions: readonly TrackedPosition[]): Promise<void>;
  /**
   * Drops a position from the ledger once its close is dealt with. With `closed` (the state the close
   * was proven against) it is conditional: an entry holding a newer state (the bot registered the
   * reopened position meanwhile, or a check saw it) is kept, and false is returned.
   */
  removeTracked(key: PositionKey, closed?: StateVersion): Promise<boolean>;
  /**
   * The bot's word that a position is open (a `register` message), in one conditional write: stored
   * unless the ledger already holds a state at least as new (by `stateSequence` when both have one,
   * else by `stateUpdatedAt`). Protective orders already known for it are kept. False when not newer.
   */
  registerTracked(position: TrackedPosition): Promise<boolean>;
  saveAccountState(state: AccountState): Promise<void>;
  /** Stores the watches a look created or changed and drops those whose episode ended. */
  saveWatches(saves: readonly ProtectionWatch[], ends: readonly PositionKey[]): Promise<void>;
  /**
   * Replaces a watch only while it is still `current` (unchanged since loaded): true when stored. Replace
   * mode marks its placement this way, so two checks racing place at most one stop.
   */
  markWatch(next: ProtectionWatch, current: ProtectionWatch): Promise<boolean>;
  /** The bot's word on a position's stop, stored unless a registration at least as new already was. */
  recordIntent(intent: ProtectionIntent): Promise<boolean>;
  /**
   * Ends the bot's word on a stop once the position's close is proven: only a word given for a state
   * no newer than `notNewerThan` (the closed state), so a reopen registered meanwhile keeps its own.
   */
  removeIntent(key: PositionKey, notNewerThan: number): Promise<boolean>;
  /** Creates the suspect only if none exists for that position; false when one already did. */
  createSuspect(suspect: SuspectRecord): Promise<boolean>;
  getSuspect(key: PositionKey): Promise<SuspectRecord | undefined>;
  /**
   * Takes the suspect for one confirmation attempt, setting `claimedUntil` (and `nextAttemptAt`) to
   * `leaseUntil` and `attempts` to `expectedAttempts + 1`. It succeeds in two cases only:
   * - a fresh claim: `attempts = expectedAttempts` and no live claim on it (`claimedUntil` absent or
   *   past);
   * - a retake: `attempts = expectedAttempts + 1` with a claim whose lease ran out (`claimedUntil <
   *   now`): the worker died mid-attempt and this is the queue's redelivery of the same message.
   * A duplicate delivery while the first runs, or after that attempt finished (claim released), finds
   * nothing to do. Undefined when gone or taken.
   */
  claimSuspect(
    key: PositionKey,
    expectedAttempts: number,
    now: number,
    leaseUntil: number,
  ): Promise<SuspectRecord | undefined>;
  /**
   * Replaces `current` with `next`, only if the stored suspect is still `current` (same `attempts`
   * and `claimedUntil`): false when someone else moved it on meanwhile (a retaken lease, a
   * concurrent check), in which case that someone owns the next step.
   */
  updateSuspect(next: SuspectRecord, current: SuspectRecord): Promise<boolean>;
  /**
   * The claim renewed right before cancelling, in one atomic step that also requires the ledger entry
   * of the position to hold no state newer than `proven` (the state whose close was proven): `held`
   * when both hold and `next` is stored; `claim-lost` when the stored suspect is no longer `current`;
   * `newer-state-registered` when the ledger holds a newer state (a reopen the bot registered).
   */
  renewClaimBeforeCancel(
    next: SuspectRecord,
    current: SuspectRecord,
    proven: StateVersion,
  ): Promise<ClaimRenewal>;
  /**
   * Ends the suspect of `key` if the state it was raised on is older than `newer` (the bot registered a
   * newer state of the position: it traded or reopened, so the suspicion is void). True when deleted.
   */
  endSuspectOlderThan(key: PositionKey, newer: StateVersion): Promise<boolean>;
  /**
   * Ends a suspect. With `held` (the version a confirmation holds), only while the stored suspect is
   * still exactly that one: a claim lost meanwhile belongs to its new holder. False when not deleted.
   */
  deleteSuspect(key: PositionKey, held?: SuspectRecord): Promise<boolean>;
}
