import type { PositionKey, SuspectRecord, TrackedPosition } from '../core/types.js';

/** Per-account bookkeeping that survives between invocations. */
export interface AccountState {
  readonly accountId: string;
  /** Distrusted snapshots in a row (self-preservation streak). */
  readonly consecutiveDistrusted: number;
  /** Exchange time of the last complete snapshot, for the staleness metric and alarm. */
  readonly lastCompleteSnapshotAt?: number;
}

/** Everything the check needs about one account, loaded in one read. */
export interface AccountView {
  readonly tracked: readonly TrackedPosition[];
  readonly suspects: readonly SuspectRecord[];
  readonly state: AccountState;
}

/**
 * Durable state: the ledger of tracked positions, the suspects and per-account state.
 * Writes that guard safety are conditional, so concurrent or duplicated invocations cannot act twice.
 */
export interface ReconciliationStore {
  loadAccount(accountId: string): Promise<AccountView>;
  upsertTracked(positions: readonly TrackedPosition[]): Promise<void>;
  removeTracked(key: PositionKey): Promise<void>;
  saveAccountState(state: AccountState): Promise<void>;
  /** Creates the suspect only if none exists for that position; false when one already did. */
  createSuspect(suspect: SuspectRecord): Promise<boolean>;
  getSuspect(key: PositionKey): Promise<SuspectRecord | undefined>;
  /**
   * Takes the suspect for one confirmation attempt. Succeeds while its `attempts` still equals
   * `expectedAttempts` (then increments it and sets `nextAttemptAt` to `leaseUntil`), or when that very
   * attempt was claimed before but its lease ran out (`attempts = expected + 1` and `nextAttemptAt < now`:
   * the worker died, and this is the queue's redelivery). A duplicate delivery while the first is
   * running, or after it finished, finds nothing to do. Undefined when gone or taken.
   */
  claimSuspect(
    key: PositionKey,
    expectedAttempts: number,
    now: number,
    leaseUntil: number,
  ): Promise<SuspectRecord | undefined>;
  /** Replaces a suspect this invocation has claimed. */
  updateSuspect(suspect: SuspectRecord): Promise<void>;
  deleteSuspect(key: PositionKey): Promise<void>;
}
