import type { AccountRecord } from '#contracts/account-record.js';

export type { AccountRecord };

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
