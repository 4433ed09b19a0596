/** The contract between the simulation harness and a reconciliation strategy it drives. */

export type Strategy = 'stopguard' | 'naive' | 'two-fetch';

/** Faults of the machinery around the core, not of the exchange. */
export interface InfraFaults {
  /** A message is delivered twice (SQS is at-least-once). */
  readonly duplicateDelivery: number;
  /** The worker dies after taking cap slots and before cancelling; SQS redelivers later. */
  readonly crashBeforeCancel: number;
}

/** What a strategy counted while it ran: the raw material of the result's costs and outcomes. */
export interface RunnerStats {
  suspectsRaised: number;
  suspectsCleared: number;
  kept: number;
  capRefusals: number;
  distrusted: number;
  crashes: number;
  reads: number;
  writes: number;
  /** Account-record reads (every check, confirmation and registration reads it fresh; a GetItem each on AWS). */
  accountReads: number;
  /** Order listings the protection audit made (none for the baselines, which audit nothing). */
  protectionListings: number;
}

/** One strategy, driven cycle by cycle on the virtual clock. */
export interface Runner {
  check(accountId: string): Promise<void>;
  /** Switches the runner's own (infrastructure) faults off. */
  heal(): void;
  /** Runs the work that falls due before `time`, then sets the clock to `time`. */
  drainUntil(time: number): Promise<void>;
  readonly stats: RunnerStats;
}
