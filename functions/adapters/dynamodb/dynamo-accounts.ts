import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { accountRecordSchema } from '#contracts/account-record.js';
import { formatIssues } from '#contracts/issues.js';
import type { AccountDirectory, AccountRecord } from '#ports/accounts.js';
import { type Clock, systemClock } from '#ports/clock.js';
import { bucketsOfShard, scheduleBucketOf } from '#ports/schedule.js';
import {
  batchWriteAll,
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  type OperationCounts,
} from './document.js';
import { Keys, PARTITION_KEY, SCHEDULE_BUCKET_ATTRIBUTE, SCHEDULE_INDEX } from './table.js';

/** A stored account record that does not match `accountRecordSchema`. */
export class InvalidAccountRecordError extends Error {
  override readonly name = 'InvalidAccountRecordError';
  constructor(
    /** The sort key it was stored under (its accountId may be the broken part). */
    readonly storedAs: string,
    readonly problems: string,
  ) {
    super(`account record ${storedAs} is invalid and was not used: ${problems}`);
  }
}

export interface DynamoAccountsOptions extends DynamoTableConfig {
  /**
   * Told about every record `listEnabled` skips as invalid, so it is seen (a log line at error level)
   * rather than the account silently going unwatched. Default: `console.error`.
   */
  readonly onInvalidRecord?: (error: InvalidAccountRecordError) => void;
  /** Records per Query page; DynamoDB's own 1 MB page limit applies regardless. */
  readonly pageSize?: number;
  /** Bounds how long `indexForSchedule` runs. */
  readonly clock?: Clock;
}

/** Bucket writes in flight at once while indexing. */
const INDEX_CONCURRENCY = 16;

/** Fields of an account item that are storage, not record. */
const STORAGE_ATTRIBUTES = [PARTITION_KEY, 'SK', 'kind', SCHEDULE_BUCKET_ATTRIBUTE] as const;

/**
 * Accounts in the `ACCOUNTS` partition (see table.ts), validated with `accountRecordSchema` on every
 * read: an invalid record is reported and skipped by the listing (one bad record must not stop the
 * scheduler for everyone) and is an error from `get` (a confirm must not act on half a record).
 */
export class DynamoAccounts implements AccountDirectory {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly onInvalidRecord: (error: InvalidAccountRecordError) => void;
  private readonly pageSize: number | undefined;
  private readonly clock: Clock;

  constructor(options: DynamoAccountsOptions) {
    this.doc = documentClient(options.client);
    this.tableName = options.tableName;
    this.onInvalidRecord = options.onInvalidRecord ?? ((error) => console.error(error.message));
    this.pageSize = options.pageSize;
    this.clock = options.clock ?? systemClock;
  }

  /** Stores (or replaces) an account after validating it. For seeding and administration. */
  async put(record: AccountRecord): Promise<void> {
    const valid = accountRecordSchema.parse(record);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: this.itemOf(valid),
      }),
    );
    this.ops.writes++;
  }

  /** Stores many records, 25 per BatchWriteItem, each validated first. For seeding a large fleet. */
  async putMany(records: readonly AccountRecord[]): Promise<void> {
    const items = records.map((record) => {
      const valid = accountRecordSchema.parse(record);
      return { PutRequest: { Item: this.itemOf(valid) } };
    });
    await batchWriteAll(this.doc, this.tableName, items, this.ops);
  }

  private itemOf(valid: AccountRecord): Record<string, unknown> {
    return {
      ...valid,
      ...Keys.account(valid.accountId),
      kind: 'account',
      [SCHEDULE_BUCKET_ATTRIBUTE]: scheduleBucketOf(valid.accountId),
    };
  }

  /** The account, undefined when unknown; throws `InvalidAccountRecordError` when its record is invalid. */
  async get(accountId: string): Promise<AccountRecord | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: Keys.account(accountId) }),
    );
    this.ops.reads++;
    if (result.Item === undefined) return undefined;
    const parsed = parseAccount(result.Item);
    if (parsed instanceof InvalidAccountRecordError) throw parsed;
    return parsed;
  }

  async *listEnabled(): AsyncIterable<AccountRecord> {
    for await (const record of this.listAll()) if (record.enabled) yield record;
  }

  /** Every valid account record, disabled ones included (invalid ones go to `onInvalidRecord`). */
  listAll(): AsyncIterable<AccountRecord> {
    return this.pages({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': Keys.accountsPartition },
    });
  }

  /**
   * One shard's enabled accounts: its buckets through the `schedule` index, or the whole partition
   * when the fleet is one shard (a record stored before the index existed is listed there too).
   */
  async *listShard(shard: number, shards: number): AsyncIterable<AccountRecord> {
    if (shards === 1) {
      yield* this.listEnabled();
      return;
    }
    for (const bucket of bucketsOfShard(shard, shards)) {
      const records = this.pages({
        IndexName: SCHEDULE_INDEX,
        KeyConditionExpression: '#bucket = :bucket',
        ExpressionAttributeNames: { '#bucket': SCHEDULE_BUCKET_ATTRIBUTE },
        ExpressionAttributeValues: { ':bucket': bucket },
      });
      for await (const record of records) if (record.enabled) yield record;
    }
  }

  /**
   * Gives records stored without a `scheduleBucket` (written before the index existed, or by hand)
   * their bucket, so that a sharded schedule lists them: a few writes at once, page by page, until
   * `until` (epoch ms). Returns how many it indexed; a later sweep does the rest.
   */
  async indexForSchedule(until: number): Promise<number> {
    let indexed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: 'attribute_not_exists(#bucket)',
          ProjectionExpression: '#pk, SK',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#bucket': SCHEDULE_BUCKET_ATTRIBUTE },
          ExpressionAttributeValues: { ':pk': Keys.accountsPartition },
          ExclusiveStartKey: startKey,
        }),
      );
      this.ops.reads++;
      const ids = (page.Items ?? []).map((item) => String(item.SK).slice('ACCOUNT#'.length));
      for (let i = 0; i < ids.length; i += INDEX_CONCURRENCY) {
        if (this.clock.now() >= until) return indexed;
        const done = await Promise.all(ids.slice(i, i + INDEX_CONCURRENCY).map((id) => this.giveBucket(id)));
        indexed += done.filter(Boolean).length;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && this.clock.now() < until);
    return indexed;
  }

  /** Sets the record's bucket; false when it was deleted meanwhile (nothing to index). */
  private giveBucket(accountId: string): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.account(accountId),
          UpdateExpression: 'SET #bucket = :bucket',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#bucket': SCHEDULE_BUCKET_ATTRIBUTE },
          ExpressionAttributeValues: { ':bucket': scheduleBucketOf(accountId) },
        }),
      ),
    );
  }

  private async *pages(
    query: Omit<QueryCommandInput, 'TableName' | 'Limit' | 'ExclusiveStartKey'>,
  ): AsyncIterable<AccountRecord> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          ...query,
          TableName: this.tableName,
          Limit: this.pageSize,
          ExclusiveStartKey: startKey,
        }),
      );
      this.ops.reads++;
      for (const item of page.Items ?? []) {
        const parsed = parseAccount(item);
        if (parsed instanceof InvalidAccountRecordError) this.onInvalidRecord(parsed);
        else yield parsed;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
}

function parseAccount(item: Record<string, unknown>): AccountRecord | InvalidAccountRecordError {
  const record: Record<string, unknown> = { ...item };
  for (const attribute of STORAGE_ATTRIBUTES) delete record[attribute];
  const parsed = accountRecordSchema.safeParse(record);
  if (parsed.success) return parsed.data;
  return new InvalidAccountRecordError(String(item.SK), formatIssues(parsed.error.issues));
}
