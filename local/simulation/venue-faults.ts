/** How the simulated venue misbehaves: the fault configuration of the deterministic simulation. */

/** Probabilities apply per call; the draws are seeded and keyed by what they decide (hash-random.ts). */
export interface VenueFaults {
  /** Probability that a bulk list silently omits positions (the incident). */
  readonly dropProbability: number;
  /** Most positions one glitching list omits. */
  readonly maxDropped: number;
  /** A dropped position keeps being dropped from bulk lists this long (the confirming fetch lies too). */
  readonly correlatedDropMs: number;
  /** Probability that the targeted re-check also omits an open position (answers "absent"). */
  readonly recheckLieProbability: number;
  /** Probability that any call fails outright (5xx, timeout, rate limit): an `unknown` answer. */
  readonly failureProbability: number;
  /** Probability that a bulk list is silently cut after its first position: reads as `complete`. */
  readonly truncationProbability: number;
  /** Fills appear in history up to this long after they happen. */
  readonly historyLagMs: number;
  /**
   * Probability that, just before any call of a session but a cancel, a position of that account which
   * closed leaving orders behind is opened again (its fill lagging in history like any other), and the
   * bot places a new stop for it: the race between a confirmation's proof and its cancels.
   */
  readonly reopenBetweenCalls: number;
  /**
   * Probability that a fill's history record carries no `closedSize`, as Bybit's documented example
   * does: history then goes through stopguard's Bybit attribution, which must read closed-PnL.
   */
  readonly blankClosedSizeProbability: number;
  /** Funding every this often moves each open position's sequence and update time, with no fill (0: never). */
  readonly fundingEveryMs: number;
  /**
   * Requests an account may make per rolling second, all endpoints together (0: no limit). Beyond it
   * a call fails as rate-limited (10006) with the time the window frees up.
   */
  readonly accountRequestsPerSecond: number;
  /**
   * Requests the whole fleet may make per 5 s from its one egress address (0: no limit; Bybit: 600).
   * Beyond it every call is refused (HTTP 403) for `ipBanMs`, and each call during the ban restarts it.
   */
  readonly ipRequestsPer5s: number;
  readonly ipBanMs: number;
  /** Per live position and cycle: someone else (another tool, the user in the app) cancels its stop. */
  readonly stopRemovedPerCycle: number;
  /** Per opened position: the bot (a bug) never places its stop. */
  readonly stopNeverPlacedProbability: number;
  /** Mean cycles until the bot notices a missing stop and places it again (0: it never does). */
  readonly stopRestoreMeanCycles: number;
}

/** A venue that answers every call truthfully and at once. */
export const noFaults: VenueFaults = {
  dropProbability: 0,
  maxDropped: 1,
  correlatedDropMs: 0,
  recheckLieProbability: 0,
  failureProbability: 0,
  truncationProbability: 0,
  historyLagMs: 0,
  reopenBetweenCalls: 0,
  blankClosedSizeProbability: 0,
  fundingEveryMs: 0,
  accountRequestsPerSecond: 0,
  ipRequestsPer5s: 0,
  ipBanMs: 600_000,
  stopRemovedPerCycle: 0,
  stopNeverPlacedProbability: 0,
  stopRestoreMeanCycles: 0,
};
