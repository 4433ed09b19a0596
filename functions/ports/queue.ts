import type { CheckMessage, ConfirmMessage } from '#contracts/messages.js';

/** The work queue between the scheduler and the workers, and between a check and its confirmation. */
export interface WorkQueue {
  /** Sends checks, each with its own delay (sub-minute cadence from a once-a-minute schedule). */
  sendChecks(checks: readonly { readonly message: CheckMessage; readonly delayMs: number }[]): Promise<void>;
  /** Sends the delayed second look at a suspect. */
  sendConfirm(message: ConfirmMessage, delayMs: number): Promise<void>;
}
