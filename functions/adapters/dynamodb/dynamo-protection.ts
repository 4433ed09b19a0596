import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import type { PositionKey } from '#core/types.js';
import { batchWriteAll, conditionalWrite, type OperationCounts } from './document.js';
import { Keys, PARTITION_KEY } from './table.js';

/**
 * The protection audit's items in an account's partition (the store's share of table.ts): a watch per
 * position short of a stop, written by checks only, and the bot's word on a stop, written by
 * registrations and ended with the position's proven close. Same semantics as `MemoryStore`.
 */
export class DynamoProtectionItems {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly ops: OperationCounts,
  ) {}

  async saveWatches(saves: readonly ProtectionWatch[], ends: readonly PositionKey[]): Promise<void> {
    if (saves.length === 0 && ends.length === 0) return;
    const key = (k: PositionKey) => Keys.watch(k.accountId, k.symbol, k.positionIdx);
    await batchWriteAll(
      this.doc,
      this.tableName,
      [
        ...saves.map((w) => ({ PutRequest: { Item: { ...w, ...key(w), kind: 'watch' } } })),
        ...ends.map((k) => ({ DeleteRequest: { Key: key(k) } })),
      ],
      this.ops,
    );
  }

  async markWatch(next: ProtectionWatch, current: ProtectionWatch): Promise<boolean> {
    // The fields a concurrent look or placement would have changed must still be as loaded.
    const optional = (name: string, value: number | undefined) =>
      value === undefined ? `attribute_not_exists(${name})` : `${name} = :${name.slice(1)}`;
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...next, ...Keys.watch(next.accountId, next.symbol, next.positionIdx), kind: 'watch' },
          ConditionExpression: `#since = :since AND ${optional('#alarmedAt', current.alarmedAt)} AND ${optional('#stopPlacedAt', current.stopPlacedAt)}`,
          ExpressionAttributeNames: {
            '#since': 'since',
            '#alarmedAt': 'alarmedAt',
            '#stopPlacedAt': 'stopPlacedAt',
          },
          ExpressionAttributeValues: {
            ':since': current.since,
            ...(current.alarmedAt === undefined ? {} : { ':alarmedAt': current.alarmedAt }),
            ...(current.stopPlacedAt === undefined ? {} : { ':stopPlacedAt': current.stopPlacedAt }),
          },
        }),
      ),
    );
  }

  async recordIntent(intent: ProtectionIntent): Promise<boolean> {
    // An UpdateItem (the register function may not Put); a word without a stop price clears one.
    const names: Record<string, string> = {
      '#pk': PARTITION_KEY,
      '#updatedAt': 'updatedAt',
      '#kind': 'kind',
    };
    const values: Record<string, unknown> = { ':kind': 'intent' };
    const sets = ['#kind = :kind'];
    for (const [i, [name, value]] of Object.entries(intent).entries()) {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    }
    values[':updatedAt'] = intent.updatedAt;
    if (intent.stopPrice === undefined) names['#stopPrice'] = 'stopPrice';
    const remove = intent.stopPrice === undefined ? ' REMOVE #stopPrice' : '';
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.intent(intent.accountId, intent.symbol, intent.positionIdx),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: 'attribute_not_exists(#pk) OR #updatedAt <= :updatedAt',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /** Ends the bot's word on a stop once the position's close is proven, unless a newer word came since. */
  async removeIntent(key: PositionKey, notNewerThan: number): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: Keys.intent(key.accountId, key.symbol, key.positionIdx),
          ConditionExpression: 'attribute_exists(#pk) AND #updatedAt <= :at',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#updatedAt': 'updatedAt' },
          ExpressionAttributeValues: { ':at': notNewerThan },
        }),
      ),
    );
  }
}
