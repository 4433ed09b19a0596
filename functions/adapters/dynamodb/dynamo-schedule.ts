import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Clock, systemClock } from '#ports/clock.js';
import {
  type ScheduleClaims,
  SHARD_COUNTS,
  type ShardMinute,
  type ShardMinuteState,
  type ShardStatus,
} from '#ports/schedule.js';
import {
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  type OperationCounts,
} from './document.js';
import { Keys, PARTITION_KEY, SortPrefix, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

export interface DynamoScheduleClaimsOptions extends DynamoTableConfig {
  /** Dates the records for their expiry. */
  readonly clock?: Clock;
  /** How long a shard-minute is kept; it only has to outlive the next runs' look (default 1 hour). */
  readonly retentionMs?: number;
}

const STATUSES: readonly ShardStatus[] = ['claimed', 'running', 'done', 'lost'];

/**
 * Shard-minutes in their minute's `SCHEDULE#<minute>` partition: a minute's shards are one Query, and
 * every transition is a conditional write on `status`, so two runs can never both take a step.
 */
export class DynamoScheduleClaims implements ScheduleClaims {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly retentionMs: number;

  constructor(options: DynamoScheduleClaimsOptions) {
    this.doc = documentClient(options.client);
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.retentionMs = options.retentionMs ?? 3_600_000;
  }

  async shardsOf(minute: number): Promise<ShardMinuteState[]> {
    const states: ShardMinuteState[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(SK, :shard)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: {
            ':pk': Keys.schedulePartition(minute),
            ':shard': SortPrefix.scheduleShard,
          },
          ExclusiveStartKey: startKey,
        }),
      );
      this.ops.reads++;
      for (const item of page.Items ?? []) {
        const state = shardStateOf(minute, item);
        if (state !== undefined) states.push(state);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return states;
  }

  claim(shard: ShardMinute): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...Keys.scheduleShard(shard.minute, shard.shard, shard.shards),
            kind: 'schedule-shard',
            status: 'claimed',
            [TTL_ATTRIBUTE]: ttlSeconds(this.clock.now() + this.retentionMs),
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      ),
    );
  }

  start(shard: ShardMinute, at: number): Promise<boolean> {
    return this.move(shard, ['claimed'], 'running', { startedAt: at });
  }

  async finish(shard: ShardMinute, outcome: { accounts: number; checks: number }): Promise<void> {
    await this.move(shard, ['running'], 'done', { accounts: outcome.accounts, checks: outcome.checks });
  }

  async giveBack(shard: ShardMinute): Promise<void> {
    await this.move(shard, ['running'], 'claimed', {});
  }

  markLost(shard: ShardMinute): Promise<boolean> {
    return this.move(shard, ['claimed', 'running'], 'lost', {});
  }

  private move(
    shard: ShardMinute,
    from: readonly ShardStatus[],
    to: ShardStatus,
    fields: Readonly<Record<string, number>>,
  ): Promise<boolean> {
    const names = Object.keys(fields);
    const values: Record<string, unknown> = { ':to': to };
    from.forEach((status, i) => {
      values[`:from${i}`] = status;
    });
    for (const name of names) values[`:${name}`] = fields[name];
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.scheduleShard(shard.minute, shard.shard, shard.shards),
          UpdateExpression: `SET #status = :to${names.map((n) => `, #${n} = :${n}`).join('')}`,
          ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
          // Every name through a placeholder: `status` is one of DynamoDB's reserved words.
          ExpressionAttributeNames: {
            '#status': 'status',
            ...Object.fromEntries(names.map((n) => [`#${n}`, n])),
          },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }
}

function shardStateOf(minute: number, item: Record<string, unknown>): ShardMinuteState | undefined {
  const match = /^SHARD#(\d+)\/(\d+)$/.exec(String(item.SK));
  const status = STATUSES.find((s) => s === item.status);
  const shards = SHARD_COUNTS.find((n) => n === Number(match?.[2]));
  if (match === null || status === undefined || shards === undefined) return undefined;
  return {
    minute,
    shard: Number(match[1]),
    shards,
    status,
    ...(typeof item.startedAt === 'number' ? { startedAt: item.startedAt } : {}),
  };
}
