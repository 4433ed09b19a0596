import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAudit } from '#adapters/dynamodb/dynamo-audit.js';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import { Keys } from '#adapters/dynamodb/table.js';
import { defaultReconcileConfig } from '#core/config.js';
import { decideConfirmation } from '#core/confirmation.js';
import { suspectAfterAttempt } from '#core/suspect.js';
import type { PositionSnapshot, SuspectRecord } from '#core/types.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { suspect, T0 } from '#test/support/records.js';

/**
 * A suspect that stays undecided (a cap refusing for days, history that never shows the close) must
 * not grow with its attempts: DynamoDB refuses items over 400 KB, and a suspect that cannot be written
 * is retried into the dead-letter queue for ever. Nor may the audit entries its attempts write.
 */
const dynamo = useDynamoDbLocal();
const LIMIT = 10 * 1024;

/**
 * An upper bound of DynamoDB's item size: attribute names plus values, numbers counted as their
 * decimal digits (DynamoDB stores them in fewer bytes), 3 bytes of overhead per list or map and 1 per
 * element (docs: "Item sizes and formats").
 */
function itemSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') return String(value).length;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + itemSize(v), 0);
  return (
    3 +
    Object.entries(value as Record<string, unknown>).reduce(
      (sum, [name, v]) => sum + 1 + Buffer.byteLength(name) + itemSize(v),
      0,
    )
  );
}

const listLacking = (i: number): PositionSnapshot => ({
  status: 'complete',
  snapshotId: `snap-${String(i).padStart(12, '0')}-${'x'.repeat(24)}`,
  fetchedAt: T0 + 10_000 + i * 60_000,
  pages: 1,
  positions: [],
});

async function storedSuspect(tableName: string, s: SuspectRecord): Promise<Record<string, unknown>> {
  const result = await dynamo.doc().send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk AND SK = :sk',
      ExpressionAttributeValues: {
        ':pk': Keys.suspect(s.accountId, s.symbol, s.positionIdx).PK,
        ':sk': Keys.suspect(s.accountId, s.symbol, s.positionIdx).SK,
      },
    }),
  );
  const item = result.Items?.[0];
  if (item === undefined) throw new Error('suspect not stored');
  return item;
}

describe('state that stays small however long a suspect waits', () => {
  it('keeps a suspect item and its audit entry under 10 KB after 10,000 attempts', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    let s = suspect();
    for (let i = 1; i <= 10_000; i++) {
      s = suspectAfterAttempt({ ...s, attempts: i, claimedUntil: T0 }, listLacking(i), T0 + i * 60_000);
    }
    expect(s.missingLooks).toBe(10_001);
    expect(await store.createSuspect(s)).toBe(true);
    const item = await storedSuspect(table.tableName, s);
    expect(itemSize(item)).toBeLessThan(LIMIT);
    // Loaded back whole: the first miss and the latest ones, and the count of all.
    expect(await store.getSuspect(s)).toEqual(s);
    expect(s.missingSnapshotIds).toEqual([
      'snap-2',
      listLacking(1).snapshotId,
      listLacking(9_998).snapshotId,
      listLacking(9_999).snapshotId,
      listLacking(10_000).snapshotId,
    ]);

    // The audit entry of its next, still undecided, attempt (history shows no close: kept, alarmed).
    const decision = decideConfirmation({
      suspect: s,
      now: T0 + 700_000_000,
      config: defaultReconcileConfig,
      recheck: { status: 'absent', checkedAt: T0 + 700_000_000 },
      snapshot: listLacking(10_001),
      evidence: { status: 'known', searchedFrom: T0, searchedTo: T0 + 700_000_000, changes: [] },
      orders: {
        status: 'known',
        orders: s.position.protectiveOrders,
      },
    });
    expect(decision).toMatchObject({ kind: 'keep-orders', reason: 'no-close-evidence' });
    if (decision.kind !== 'keep-orders') return;
    expect(decision.message).toMatch(/absent in 10002 fetches/);
    const audit = new DynamoAudit({ ...table, ids: { next: (p) => `${p}-1` } });
    await audit.record([{ accountId: s.accountId, at: T0, phase: 'confirm', decision, shadow: false }]);
    const entries = await dynamo.doc().send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': Keys.auditPartition(s.accountId, T0) },
      }),
    );
    expect(entries.Items).toHaveLength(1);
    expect(itemSize(entries.Items?.[0])).toBeLessThan(LIMIT);
  });

  it('stores the same size after 300 real attempts as after 10: each attempt rewrites, nothing accumulates', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    const first = suspect();
    await store.createSuspect(first);
    const sizes: number[] = [];
    let held: SuspectRecord = first;
    for (let i = 1; i <= 300; i++) {
      const now = T0 + 20_000 + i * 60_000;
      const claimed = await store.claimSuspect(first, held.attempts, now, now + 30_000);
      if (claimed === undefined) throw new Error(`attempt ${i}: claim failed`);
      const next = suspectAfterAttempt(claimed, listLacking(i), now + 60_000);
      expect(await store.updateSuspect(next, claimed)).toBe(true);
      held = next;
      if (i === 10 || i === 300) sizes.push(itemSize(await storedSuspect(table.tableName, first)));
    }
    expect(held.attempts).toBe(300);
    // Only the digits of the counters and times may differ.
    expect(Math.abs((sizes[1] ?? 0) - (sizes[0] ?? 0))).toBeLessThanOrEqual(8);
  });
});
