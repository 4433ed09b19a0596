import type { AccountDirectory, AccountRecord } from '#ports/accounts.js';
import { scheduleBucketOf } from '#ports/schedule.js';

export class MemoryAccounts implements AccountDirectory {
  private readonly records = new Map<string, AccountRecord>();
  /** Record reads (a GetItem each on DynamoDB), for cost figures. */
  readonly ops = { reads: 0 };

  constructor(records: readonly AccountRecord[] = []) {
    for (const r of records) this.records.set(r.accountId, r);
  }

  put(record: AccountRecord): void {
    this.records.set(record.accountId, record);
  }

  async get(accountId: string): Promise<AccountRecord | undefined> {
    this.ops.reads++;
    return this.records.get(accountId);
  }

  async *listEnabled(): AsyncIterable<AccountRecord> {
    for (const r of this.records.values()) if (r.enabled) yield r;
  }

  async *listShard(shard: number, shards: number): AsyncIterable<AccountRecord> {
    for (const r of this.records.values()) {
      if (r.enabled && scheduleBucketOf(r.accountId) % shards === shard) yield r;
    }
  }

  /** Nothing to index: the buckets are computed from the ids as the shards are listed. */
  async indexForSchedule(_until: number): Promise<number> {
    return 0;
  }
}
