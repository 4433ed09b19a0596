import type { AccountRecordInput } from '../orchestration/messages.js';

/**
 * An account stopguard watches (shape and validation in `accountRecordSchema`). Keys are never stored
 * on it, only `credentialsRef`: a Secrets Manager secret name on AWS, a key of the local file.
 */
export type AccountRecord = AccountRecordInput;

export interface AccountDirectory {
  get(accountId: string): Promise<AccountRecord | undefined>;
  /** Every enabled account, page by page. */
  listEnabled(): AsyncIterable<AccountRecord>;
  /**
   * Claims the right to schedule an account's checks for one window (a minute): true once, false for
   * any repeat, so a scheduler invoked twice for the same minute cannot double the load.
   */
  claimScheduleWindow(accountId: string, windowId: string): Promise<boolean>;
  /** Gives a claim back after its checks could not be sent, so the retried run schedules them. */
  releaseScheduleWindow(accountId: string, windowId: string): Promise<void>;
}
