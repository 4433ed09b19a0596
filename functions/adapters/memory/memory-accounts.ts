import type { AccountDirectory, AccountRecord } from '#ports/accounts.js';

export class MemoryAccounts implements AccountDirectory {
  private readonly records = new Map<string, AccountRecord>();
  private readonly claimed = new Set<string>();
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

  async claimScheduleWindow(accountId: string, windowId: string): Promise<boolean> {
    const key = `${accountId}#${windowId}`;
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }

  async releaseScheduleWindow(accountId: string, windowId: string): Promise<void> {
    this.claimed.delete(`${accountId}#${windowId}`);
  }
}
