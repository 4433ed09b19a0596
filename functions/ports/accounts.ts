import type { AccountRecord } from '#contracts/account-record.js';

export type { AccountRecord };

export interface AccountDirectory {
  get(accountId: string): Promise<AccountRecord | undefined>;
  /** Every enabled account, page by page. */
  listEnabled(): AsyncIterable<AccountRecord>;
  /** The enabled accounts of one scheduler shard (see schedule.ts), page by page. */
  listShard(shard: number, shards: number): AsyncIterable<AccountRecord>;
  /**
   * Makes every stored account listable by its shard (a record written before the shard index
   * existed); returns how many it had to index.
   */
  indexForSchedule(): Promise<number>;
}
