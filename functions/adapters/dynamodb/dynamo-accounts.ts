import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { accountRecordSchema } from '#contracts/account-record.js';
import { formatIssues } from '#contracts/issues.js';
import type { AccountDirectory, AccountRecord } from '#ports/accounts.js';
import { type Clock, systemClock } from '#ports/clock.js';
import {
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  type OperationCounts,
} from './document.js';
import { Keys, PARTITION_KEY, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

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
  /** Dates schedule claims for their expiry. */
  readonly clock?: Clock;
  /** How long a schedule claim is kept; it only has to outlive its minute (default 1 hour). */
  readonly claimRetentionMs?: number;
}

/** Fields of an account item that are storage, not record. */
const STORAGE_ATTRIBUTES = [PARTITION_KEY, 'SK', 'kind'] as const;

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
  private readonly claimRetentionMs: number;

  constructor(options: DynamoAccountsOptions) {
    this.doc = documentClient(options.client);
    this.tableName = options.tableName;
    this.onInvalidRecord = options.onInvalidRecord ?? ((error) => console.error(error.message));
    this.pageSize = options.pageSize;
    this.clock = options.clock ?? systemClock;
    this.claimRetentionMs = options.claimRetentionMs ?? 3_600_000;
  }

  /** Stores (or replaces) an account after validating it. For seeding and administration. */
  async put(record: AccountRecord): Promise<void> {
    const valid = accountRecordSchema.parse(record);
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...valid, ...Keys.account(valid.accountId), kind: 'account' },
      }),
    );
    this.ops.writes++;
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
  async *listAll(): AsyncIterable<AccountRecord> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': Keys.accountsPartition },
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

  async claimScheduleWindow(accountId: string, windowId: string): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...Keys.scheduleClaim(accountId, windowId),
            kind: 'schedule-claim',
            [TTL_ATTRIBUTE]: ttlSeconds(this.clock.now() + this.claimRetentionMs),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      ),
    );
  }

  async releaseScheduleWindow(accountId: string, windowId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: Keys.scheduleClaim(accountId, windowId) }),
    );
    this.ops.writes++;
  }
}

function parseAccount(item: Record<string, unknown>): AccountRecord | InvalidAccountRecordError {
  const record: Record<string, unknown> = { ...item };
  for (const attribute of STORAGE_ATTRIBUTES) delete record[attribute];
  const parsed = accountRecordSchema.safeParse(record);
  if (parsed.success) return parsed.data;
  return new InvalidAccountRecordError(String(item.SK), formatIssues(parsed.error.issues));
}
