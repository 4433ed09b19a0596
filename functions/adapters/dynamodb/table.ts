/**
 * The stopguard table: one DynamoDB table, single-table design.
 *
 *   Keys: PK (string, partition) + SK (string, sort). Billing: PAY_PER_REQUEST.
 *   TTL attribute: `expiresAt`, epoch SECONDS (DynamoDB deletes within ~48 h of it; never exactly).
 *
 *   PK                                   SK                       item                    expiresAt
 *   ACCOUNT#<accountId>                  POS#<symbol>#<idx>       tracked position        none
 *   ACCOUNT#<accountId>                  SUSPECT#<symbol>#<idx>   suspect                 nextAttemptAt + 7 d
 *   ACCOUNT#<accountId>                  STATE                    account state           none
 *   ACCOUNT#<accountId>                  WATCH#<symbol>#<idx>     protection watch        none
 *   ACCOUNT#<accountId>                  INTENT#<symbol>#<idx>    the bot's stop intent   none
 *   ACCOUNTS                             ACCOUNT#<accountId>      account record          none
 *   SCHEDULE#<minute>                    SHARD#<shard>/<shards>   shard-minute claim      claim + 1 h
 *   CAP#<windowId>#ACCOUNT#<accountId>   CAP                      per-account cancels     window end + 1 d
 *   CAP#<windowId>#GLOBAL                CAP                      all cancels             window end + 1 d
 *   CAP#<windowId>#PLACE#…               CAP                      stops placed (same two) window end + 1 d
 *   AUDIT#<accountId>#<yyyy-mm-dd>       <iso time>#<id>          audit entry             at + retention
 *   FLEET                                PAUSE                    fleet-wide pause        until + 1 d
 *   FLEET#BUDGET#<windowId>              BUDGET                   fleet's requests        window end + 1 d
 *
 * Why this shape:
 * - An account's ledger, suspects and state share a partition, so a check loads them with ONE Query.
 *   Nothing else may live there (schedule claims, cap counters, audit): it would be read by every check.
 * - Account records share one partition so a listing of every account is a Query, not a Scan. Each
 *   also carries `scheduleBucket` (0–63, a hash of its id), the partition key of the `schedule`
 *   index, so one scheduler shard lists only its own buckets.
 * - The two cap counters are separate items so one transaction can condition each on its own limit.
 * - Audit is partitioned per account per day: bounded partitions, and "what happened to account X on
 *   day D" is one Query.
 *
 * The CDK stack defines the same table from the constants below.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { positionId } from '#core/keys.js';
import type { PositionIdx } from '#core/types.js';

export const PARTITION_KEY = 'PK';
export const SORT_KEY = 'SK';
/** TTL attribute, epoch seconds. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** The key of one item. */
export interface ItemKey {
  readonly [PARTITION_KEY]: string;
  readonly [SORT_KEY]: string;
}

/** Sort-key prefixes inside an account partition; `loadAccountView` tells items apart by them. */
export const SortPrefix = {
  tracked: 'POS#',
  suspect: 'SUSPECT#',
  state: 'STATE',
  watch: 'WATCH#',
  intent: 'INTENT#',
  scheduleShard: 'SHARD#',
} as const;

export const Keys = {
  accountPartition: (accountId: string): string => `ACCOUNT#${accountId}`,
  tracked: (accountId: string, symbol: string, positionIdx: PositionIdx): ItemKey => ({
    PK: Keys.accountPartition(accountId),
    SK: `${SortPrefix.tracked}${positionId(symbol, positionIdx)}`,
  }),
  suspect: (accountId: string, symbol: string, positionIdx: PositionIdx): ItemKey => ({
    PK: Keys.accountPartition(accountId),
    SK: `${SortPrefix.suspect}${positionId(symbol, positionIdx)}`,
  }),
  state: (accountId: string): ItemKey => ({ PK: Keys.accountPartition(accountId), SK: SortPrefix.state }),
  watch: (accountId: string, symbol: string, positionIdx: PositionIdx): ItemKey => ({
    PK: Keys.accountPartition(accountId),
    SK: `${SortPrefix.watch}${positionId(symbol, positionIdx)}`,
  }),
  intent: (accountId: string, symbol: string, positionIdx: PositionIdx): ItemKey => ({
    PK: Keys.accountPartition(accountId),
    SK: `${SortPrefix.intent}${positionId(symbol, positionIdx)}`,
  }),
  accountsPartition: 'ACCOUNTS',
  account: (accountId: string): ItemKey => ({ PK: Keys.accountsPartition, SK: `ACCOUNT#${accountId}` }),
  schedulePartition: (minute: number | string): string => `SCHEDULE#${minute}`,
  /** One shard of one minute; `shards` is in the key so a fleet re-sharded mid-minute claims anew. */
  scheduleShard: (minute: number | string, shard: number | string, shards: number | string): ItemKey => ({
    PK: Keys.schedulePartition(minute),
    SK: `${SortPrefix.scheduleShard}${shard}/${shards}`,
  }),
  /** `budget` is '' for cancels and `PLACE#` for replace mode's stops: separate counters, same shape. */
  capAccount: (windowId: string, accountId: string, budget = ''): ItemKey => ({
    PK: `CAP#${windowId}#${budget}ACCOUNT#${accountId}`,
    SK: 'CAP',
  }),
  capGlobal: (windowId: string, budget = ''): ItemKey => ({
    PK: `CAP#${windowId}#${budget}GLOBAL`,
    SK: 'CAP',
  }),
  auditPartition: (accountId: string, at: number): string =>
    `AUDIT#${accountId}#${new Date(at).toISOString().slice(0, 10)}`,
  fleetPause: { PK: 'FLEET', SK: 'PAUSE' } as ItemKey,
  fleetBudget: (windowId: string): ItemKey => ({ PK: `FLEET#BUDGET#${windowId}`, SK: 'BUDGET' }),
  audit: (accountId: string, at: number, id: string): ItemKey => ({
    PK: Keys.auditPartition(accountId, at),
    SK: `${new Date(at).toISOString()}#${id}`,
  }),
} as const;

/** Epoch milliseconds to the TTL attribute's epoch seconds. */
export function ttlSeconds(epochMs: number): number {
  return Math.ceil(epochMs / 1000);
}

export const DAY_MS = 86_400_000;

/** The global secondary index a scheduler shard lists its accounts by (all attributes projected). */
export const SCHEDULE_INDEX = 'schedule';
export const SCHEDULE_BUCKET_ATTRIBUTE = 'scheduleBucket';

/** The table as CreateTable wants it. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PARTITION_KEY, AttributeType: 'S' },
      { AttributeName: SORT_KEY, AttributeType: 'S' },
      { AttributeName: SCHEDULE_BUCKET_ATTRIBUTE, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
      { AttributeName: SORT_KEY, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: SCHEDULE_INDEX,
        KeySchema: [
          { AttributeName: SCHEDULE_BUCKET_ATTRIBUTE, KeyType: 'HASH' },
          { AttributeName: SORT_KEY, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/**
 * Creates the table if it does not exist, waits until it is active, and enables TTL on `expiresAt`.
 * For local runs and tests: on AWS the CDK stack owns the table.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1 }, { TableName: tableName });
  // UpdateTimeToLive fails when TTL is already enabled, so look first.
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}
