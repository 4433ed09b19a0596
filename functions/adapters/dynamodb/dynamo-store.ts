import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ClaimRenewal } from '#core/decision.js';
import { positionIdOf } from '#core/keys.js';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import type { StateVersion } from '#core/state-order.js';
import type { PositionKey, SuspectRecord, TrackedPosition } from '#core/types.js';
import type { AccountState, AccountView, ReconciliationStore } from '#ports/store.js';
import {
  batchWriteAll,
  cancellationCodes,
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  isConditionalCheckFailed,
  isTransactionCanceled,
  type OperationCounts,
} from './document.js';
import { DynamoProtectionItems } from './dynamo-protection.js';
import {
  accountStateSchema,
  parseItem,
  protectionIntentSchema,
  protectionWatchSchema,
  suspectRecordSchema,
  trackedPositionSchema,
} from './records.js';
import { storedStateIs } from './state-conditions.js';
import { DAY_MS, Keys, PARTITION_KEY, SortPrefix, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

export interface DynamoStoreOptions extends DynamoTableConfig {
  /**
   * How long a suspect outlives its `nextAttemptAt` before DynamoDB may expire it (default 7 days).
   * Only abandoned suspects get that old; if one expires, the next check simply raises it again.
   */
  readonly suspectRetentionMs?: number;
}

/**
 * The reconciliation store on DynamoDB (key design in table.ts). Same semantics as `MemoryStore`,
 * checked by the shared contract suite. An account's ledger, suspects and state are read with one
 * strongly consistent Query: a check must see the suspect a confirm just deleted or created, since a
 * stale ledger could raise a suspect on a position already resolved.
 */
export class DynamoStore implements ReconciliationStore {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly suspectRetentionMs: number;
  private readonly protection: DynamoProtectionItems;

  constructor(options: DynamoStoreOptions) {
    this.doc = documentClient(options.client);
    this.tableName = options.tableName;
    this.protection = new DynamoProtectionItems(this.doc, this.tableName, this.ops);
    this.suspectRetentionMs = options.suspectRetentionMs ?? 7 * DAY_MS;
  }

  async loadAccountView(accountId: string): Promise<AccountView> {
    const tracked: TrackedPosition[] = [];
    const suspects: SuspectRecord[] = [];
    const watches: ProtectionWatch[] = [];
    const intents: ProtectionIntent[] = [];
    let state: AccountState = { accountId, consecutiveDistrusted: 0 };
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          ExpressionAttributeValues: { ':pk': Keys.accountPartition(accountId) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      this.ops.reads++;
      for (const item of page.Items ?? []) {
        const sk = String(item.SK);
        if (sk.startsWith(SortPrefix.tracked)) {
          tracked.push(parseItem(trackedPositionSchema, item, 'tracked position'));
        } else if (sk.startsWith(SortPrefix.suspect)) {
          suspects.push(parseItem(suspectRecordSchema, item, 'suspect'));
        } else if (sk === SortPrefix.state) {
          state = parseItem(accountStateSchema, item, 'account state');
        } else if (sk.startsWith(SortPrefix.watch)) {
          watches.push(parseItem(protectionWatchSchema, item, 'protection watch'));
        } else if (sk.startsWith(SortPrefix.intent)) {
          intents.push(parseItem(protectionIntentSchema, item, 'protection intent'));
        }
        // Any other sort key belongs to a later version of this adapter: not ours to interpret.
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { tracked, suspects, state, watches, intents };
  }

  async upsertTracked(positions: readonly TrackedPosition[]): Promise<void> {
    if (positions.length === 0) return;
    // BatchWriteItem rejects a request naming one key twice; the last write of a key wins, as in memory.
    const latest = new Map(positions.map((p) => [`${p.accountId}\u0000${positionIdOf(p)}`, p] as const));
    await batchWriteAll(
      this.doc,
      this.tableName,
      [...latest.values()].map((p) => ({
        PutRequest: {
          Item: { ...p, ...Keys.tracked(p.accountId, p.symbol, p.positionIdx), kind: 'tracked' },
        },
      })),
      this.ops,
    );
  }

  async removeTracked(key: PositionKey, closed?: StateVersion): Promise<boolean> {
    // Deleted unless the stored state is newer than the one whose close was proven.
    const newer = closed === undefined ? undefined : storedStateIs('>', closed, ':closed');
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: Keys.tracked(key.accountId, key.symbol, key.positionIdx),
          ...(newer === undefined
            ? {}
            : {
                ConditionExpression: `attribute_not_exists(#pk) OR NOT ${newer.expression}`,
                ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...newer.names },
                ExpressionAttributeValues: newer.values,
              }),
        }),
      ),
    );
  }

  async registerTracked(position: TrackedPosition): Promise<boolean> {
    const { protectiveOrders: _kept, ...state } = position;
    const fields = Object.entries({ ...state, kind: 'tracked' });
    // Stored unless the ledger already holds a state at least as new.
    const older = storedStateIs('<', position, ':registered');
    const names: Record<string, string> = { '#pk': PARTITION_KEY, ...older.names };
    const values: Record<string, unknown> = { ':none': [] };
    const sets = fields.map(([name, value], i) => {
      names[`#f${i}`] = name;
      values[`:f${i}`] = value;
      return `#f${i} = :f${i}`;
    });
    names['#orders'] = 'protectiveOrders';
    Object.assign(values, older.values);
    // A state without a sequence replaces one that had it, as in memory.
    if (position.stateSequence === undefined) names['#stateSeq'] = 'stateSequence';
    const remove = position.stateSequence === undefined ? ' REMOVE #stateSeq' : '';
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.tracked(position.accountId, position.symbol, position.positionIdx),
          UpdateExpression: `SET ${sets.join(', ')}, #orders = if_not_exists(#orders, :none)${remove}`,
          ConditionExpression: `attribute_not_exists(#pk) OR ${older.expression}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async saveAccountState(state: AccountState): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...state, ...Keys.state(state.accountId), kind: 'state' },
      }),
    );
    this.ops.writes++;
  }

  saveWatches(saves: readonly ProtectionWatch[], ends: readonly PositionKey[]): Promise<void> {
    return this.protection.saveWatches(saves, ends);
  }

  markWatch(next: ProtectionWatch, current: ProtectionWatch): Promise<boolean> {
    return this.protection.markWatch(next, current);
  }

  recordIntent(intent: ProtectionIntent): Promise<boolean> {
    return this.protection.recordIntent(intent);
  }

  removeIntent(key: PositionKey, notNewerThan: number): Promise<boolean> {
    return this.protection.removeIntent(key, notNewerThan);
  }

  async createSuspect(suspect: SuspectRecord): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.suspectItem(suspect),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      ),
    );
  }

  async getSuspect(key: PositionKey): Promise<SuspectRecord | undefined> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: Keys.suspect(key.accountId, key.symbol, key.positionIdx),
        ConsistentRead: true,
      }),
    );
    this.ops.reads++;
    return result.Item === undefined ? undefined : parseItem(suspectRecordSchema, result.Item, 'suspect');
  }

  async claimSuspect(
    key: PositionKey,
    expectedAttempts: number,
    now: number,
    leaseUntil: number,
  ): Promise<SuspectRecord | undefined> {
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: Keys.suspect(key.accountId, key.symbol, key.positionIdx),
          UpdateExpression:
            'SET #attempts = :next, #nextAttemptAt = :lease, #claimedUntil = :lease, #ttl = :ttl',
          // A fresh claim of this attempt (no live claim on it), or a retake of it after the claimer's
          // lease ran out. A finished attempt has released its claim, so a late duplicate matches
          // neither. An absent item fails the condition too, so nothing is created.
          ConditionExpression:
            '(#attempts = :expected AND (attribute_not_exists(#claimedUntil) OR #claimedUntil < :now))' +
            ' OR (#attempts = :next AND #claimedUntil < :now)',
          ExpressionAttributeNames: {
            '#attempts': 'attempts',
            '#nextAttemptAt': 'nextAttemptAt',
            '#claimedUntil': 'claimedUntil',
            '#ttl': TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':expected': expectedAttempts,
            ':next': expectedAttempts + 1,
            ':now': now,
            ':lease': leaseUntil,
            ':ttl': this.suspectTtl(leaseUntil),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes === undefined
        ? undefined
        : parseItem(suspectRecordSchema, result.Attributes, 'suspect');
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    } finally {
      this.ops.writes++;
    }
  }

  async updateSuspect(next: SuspectRecord, current: SuspectRecord): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: this.suspectItem(next), ...this.heldBy(current) }),
      ),
    );
  }

  /** The condition that the stored suspect is still exactly `current`: same attempt, same claim. */
  private heldBy(current: SuspectRecord) {
    return {
      ConditionExpression: `#attempts = :attempts AND ${
        current.claimedUntil === undefined
          ? 'attribute_not_exists(#claimedUntil)'
          : '#claimedUntil = :claimedUntil'
      }`,
      ExpressionAttributeNames: { '#attempts': 'attempts', '#claimedUntil': 'claimedUntil' },
      ExpressionAttributeValues:
        current.claimedUntil === undefined
          ? { ':attempts': current.attempts }
          : { ':attempts': current.attempts, ':claimedUntil': current.claimedUntil },
    };
  }

  async renewClaimBeforeCancel(
    next: SuspectRecord,
    current: SuspectRecord,
    proven: StateVersion,
  ): Promise<ClaimRenewal> {
    const newer = storedStateIs('>', proven, ':proven');
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.tableName, Item: this.suspectItem(next), ...this.heldBy(current) } },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: Keys.tracked(current.accountId, current.symbol, current.positionIdx),
                ConditionExpression: `attribute_not_exists(#pk) OR NOT ${newer.expression}`,
                ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...newer.names },
                ExpressionAttributeValues: newer.values,
              },
            },
          ],
        }),
      );
      return 'held';
    } catch (error) {
      if (!isTransactionCanceled(error)) throw error;
      const codes = cancellationCodes(error);
      if (codes[0] === 'ConditionalCheckFailed') return 'claim-lost';
      if (codes[1] === 'ConditionalCheckFailed') return 'newer-state-registered';
      // Contention or throttling: not a "no". The worker fails, the queue redelivers, nothing was cancelled.
      throw error;
    } finally {
      this.ops.writes += 2;
    }
  }

  async endSuspectOlderThan(key: PositionKey, newer: StateVersion): Promise<boolean> {
    const older = storedStateIs('<', newer, ':newer', 'position');
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: Keys.suspect(key.accountId, key.symbol, key.positionIdx),
          ConditionExpression: `attribute_exists(#pk) AND ${older.expression}`,
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, ...older.names },
          ExpressionAttributeValues: older.values,
        }),
      ),
    );
  }

  async deleteSuspect(key: PositionKey, held?: SuspectRecord): Promise<boolean> {
    return conditionalWrite(this.ops, () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: Keys.suspect(key.accountId, key.symbol, key.positionIdx),
          ...(held === undefined ? {} : this.heldBy(held)),
        }),
      ),
    );
  }

  private suspectItem(suspect: SuspectRecord): Record<string, unknown> {
    return {
      ...suspect,
      ...Keys.suspect(suspect.accountId, suspect.symbol, suspect.positionIdx),
      kind: 'suspect',
      [TTL_ATTRIBUTE]: this.suspectTtl(suspect.nextAttemptAt),
    };
  }

  private suspectTtl(nextAttemptAt: number): number {
    return ttlSeconds(nextAttemptAt + this.suspectRetentionMs);
  }
}
