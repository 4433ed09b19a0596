import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, AuditLog } from '../../ports/audit.js';
import { type IdSource, randomIds } from '../../ports/ids.js';
import { batchWriteAll, type DynamoTableConfig, documentClient, type OperationCounts } from './document.js';
import { DAY_MS, Keys, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

export interface DynamoAuditOptions extends DynamoTableConfig {
  /** Days an entry is kept before DynamoDB may expire it (default 90). */
  readonly retentionDays?: number;
  /** Makes each entry's sort key unique among entries of the same millisecond. */
  readonly ids?: IdSource;
}

/**
 * The audit trail: one item per decision in `AUDIT#<accountId>#<yyyy-mm-dd>` (UTC day of `at`),
 * sorted by time. Each item stands alone for a reader: what was decided and why (kind, reason, the
 * sentence an operator reads), whether it alarmed, the snapshots and fills it rests on, the orders it
 * concerned and what each cancel request returned.
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

  async record(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await batchWriteAll(
      this.doc,
      this.tableName,
      entries.map((entry) => ({ PutRequest: { Item: this.item(entry) } })),
      this.ops,
    );
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
