import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '#ports/audit.js';
import { type IdSource, randomIds } from '#ports/ids.js';
import {
  conditionalWrite,
  type DynamoTableConfig,
  documentClient,
  type OperationCounts,
} from './document.js';
import { DAY_MS, Keys, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

export interface DynamoAuditOptions extends DynamoTableConfig {
  /** Days an entry is kept before DynamoDB may expire it (default 90). */
  readonly retentionDays?: number;
  /** Makes each entry's sort key unique among entries of the same millisecond. */
  readonly ids?: IdSource;
}

/** An entry's key was already taken: the entry was not written, and the one there is unchanged. */
export class AuditKeyCollisionError extends Error {
  override readonly name = 'AuditKeyCollisionError';
}

/**
 * The audit trail: one item per decision in `AUDIT#<accountId>#<yyyy-mm-dd>` (UTC day of `at`),
 * sorted by time. Each item stands alone for a reader: what was decided and why (kind, reason, the
 * sentence an operator reads), whether it alarmed, the snapshots and fills it rests on, the orders it
 * concerned and what each cancel request returned.
 *
 * Append-only: each entry is a PutItem that refuses an existing key (`attribute_not_exists`), and on
 * AWS the writer may do nothing else in audit partitions (no read, query, update, delete or batch
 * write; see the worker's WriteAuditTrail statement). Keys end in a random id and the writer can
 * neither read nor list audit partitions, so it has no existing entry's key to aim a Put at (short of
 * one it has just written itself); the condition refuses a collision.
 */
export class DynamoAudit implements AuditLog {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly retentionMs: number;
  private readonly ids: IdSource;

  constructor(options: DynamoAuditOptions) {
    this.doc = documentClient(options.client);
    this.tableName = options.tableName;
    this.retentionMs = (options.retentionDays ?? 90) * DAY_MS;
    this.ids = options.ids ?? randomIds;
  }

  /** Writes every entry, one conditional Put each, in parallel; throws once all have settled. */
  async record(entries: readonly AuditEntry[]): Promise<void> {
    // Settled before any failure is thrown: no Put is still in flight when the caller retries.
    const results = await Promise.allSettled(entries.map((entry) => this.append(entry)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  private async append(entry: AuditEntry): Promise<void> {
    const item = this.item(entry);
    const written = await conditionalWrite(this.ops, () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      ),
    );
    if (!written) {
      throw new AuditKeyCollisionError(
        `audit entry ${String(item[PARTITION_KEY])} ${String(item[SORT_KEY])} already exists; not overwritten`,
      );
    }
  }

  private item(entry: AuditEntry): Record<string, unknown> {
    const { decision } = entry;
    return {
      ...Keys.audit(entry.accountId, entry.at, this.ids.next('audit')),
      kind: 'audit',
      accountId: entry.accountId,
      at: entry.at,
      phase: entry.phase,
      shadow: entry.shadow,
      symbol: decision.key.symbol,
      positionIdx: decision.key.positionIdx,
      decision: decision.kind,
      reason: decision.reason,
      message: decision.message,
      alarm: decision.alarm,
      snapshotIds: [...decision.snapshotIds],
      evidenceIds: 'changes' in decision ? decision.changes.map((c) => c.id) : [],
      orderIds: 'orders' in decision ? decision.orders.map((o) => o.orderId) : [],
      ordersLeftAloneIds: 'ordersLeftAlone' in decision ? decision.ordersLeftAlone.map((o) => o.orderId) : [],
      cancels: entry.cancels?.map((c) => ({ ...c })),
      [TTL_ATTRIBUTE]: ttlSeconds(entry.at + this.retentionMs),
    };
  }
}
