import type { AccountRecord } from '#contracts/account-record.js';

export type { AccountRecord };

export interface AccountDirectory {
  get(accountId: string): Promise<AccountRecord | undefined>;
  /** Every enabled account, page by page. */
  listEnabled(): AsyncIterable<AccountRecord>;
  /** The enabled accounts of one scheduler shard (see schedule.ts), page by page. */
  listShard(shard: number, shards: number): AsyncIterable<AccountRecord>;
  /**
   * Makes stored accounts listable by their shard (a record written before the shard index existed),
   * stopping at `until` (epoch ms) if it is not done; returns how many it indexed.
   */
  indexForSchedule(until: number): Promise<number>;
}
