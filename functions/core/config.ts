/**
 * The knobs of the reconciliation rules. Pure data: handlers read them from the environment and the
 * account record, validate them, and pass them in.
 */
export interface ReconcileConfig {
  /** Minimum time between the fetch that first missed a position and the confirming look. */
  readonly confirmDelayMs: number;
  /**
   * How long after a position first went missing history may still be catching up. Inside it a missing
   * close event means "wait"; after it, "keep the orders and alarm".
   */
  readonly evidenceGraceMs: number;
  /** Self-preservation: a snapshot missing at least this fraction of tracked positions is distrusted… */
  readonly distrustFraction: number;
  /** …provided it misses at least this many. */
  readonly distrustMinMissing: number;
  /**
   * After this many consecutive distrusted snapshots that agree, the mass absence is believed enough to
   * raise suspects (which still need confirmation and close evidence): a real "close everything" must
   * not leave its orphans forever.
   */
  readonly massAbsenceConfirmations: number;
  /** A suspect whose confirmation is this late is re-sent by the next check (its message was lost). */
  readonly overdueConfirmMs: number;
  /**
   * Longest wait between confirmation attempts (at most 15 minutes, SQS's delay limit). Failures here
   * are independent blips, not overload, so a short cap cleans up sooner; rate limits are honoured
   * separately through the venue's reset time.
   */
  readonly maxRetryDelayMs: number;
  /**
   * How long a live position may be short of a stop before the protection audit alarms: the bot needs a
   * moment after opening (or adding) to place its stop.
   */
  readonly protectionGraceMs: number;
  /** Undecided after this many confirmation attempts, a suspect is stuck (see `SuspectRecord.stuckSince`). */
  readonly stuckAfterAttempts: number;
  /** …or this long after it first went missing. */
  readonly stuckAfterMs: number;
  /** How often a stuck suspect is looked at: a full proof every minute, for ever, costs for nothing. */
  readonly stuckLookMs: number;
}

export const defaultReconcileConfig: ReconcileConfig = {
  confirmDelayMs: 5_000,
  evidenceGraceMs: 120_000,
  distrustFraction: 0.5,
  distrustMinMissing: 2,
  massAbsenceConfirmations: 3,
  overdueConfirmMs: 120_000,
  maxRetryDelayMs: 60_000,
  protectionGraceMs: 30_000,
  // Half an hour of minute-apart attempts, or an hour in all: far past any history lag seen (the
  // evidence grace is 2 minutes), so what is still undecided needs a person, not more of the same.
  stuckAfterAttempts: 30,
  stuckAfterMs: 3_600_000,
  // SQS's longest delay.
  stuckLookMs: 900_000,
};
