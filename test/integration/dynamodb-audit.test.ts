import { type BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchWriteAll, UnprocessedWritesError } from '#adapters/dynamodb/document.js';
import { AuditKeyCollisionError, DynamoAudit } from '#adapters/dynamodb/dynamo-audit.js';
import { DAY_MS, Keys } from '#adapters/dynamodb/table.js';
import type { CancelOrphans, StillOpen } from '#core/decision.js';
import { localDynamoDbClient } from '#local/standins/clients.js';
import type { AuditEntry } from '#ports/audit.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { order, T0 } from '#test/support/records.js';

const dynamo = useDynamoDbLocal();
const KEY = { accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0 } as const;

const cancel: CancelOrphans = {
  kind: 'cancel-orphans',
  reason: 'closed-with-evidence',
  key: KEY,
  message: 'BTCUSDT closed by stop-loss fill f-1; cancelled 1 order (TP)',
  alarm: false,
  snapshotIds: ['snap-1', 'snap-2'],
  orders: [order({ orderId: 'tp-1', kind: 'take-profit' })],
  changes: [
    { id: 'f-1', source: 'execution', time: T0, closedQty: '0.001', openedQty: '0', kind: 'stop-loss' },
  ],
  ordersLeftAlone: [order({ orderId: 'sl-unknown-age' })],
  ordersDeferred: 0,
};

const stillOpen = (i: number): StillOpen => ({
  kind: 'still-open',
  reason: 'present-in-recheck',
  key: { ...KEY, symbol: `SYM${i}USDT` },
  message: `SYM${i}USDT is open after all: the earlier list was incomplete`,
  alarm: true,
  snapshotIds: [`snap-${i}`],
  incompleteResponseObserved: true,
});

async function auditItems(tableName: string, accountId: string, at: number) {
  const result = await dynamo.doc().send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': Keys.auditPartition(accountId, at) },
    }),
  );
  return result.Items ?? [];
}

describe('DynamoAudit on DynamoDB Local', () => {
  it('stores each decision with its reason, sentence, alarm, evidence, snapshots, orders and cancels', async () => {
    const table = await dynamo.freshTable();
    const audit = new DynamoAudit(table);
    const entry: AuditEntry = {
      accountId: 'acct-1',
      at: T0,
      phase: 'confirm',
      decision: cancel,
      shadow: false,
      cancels: [
        { orderId: 'tp-1', status: 'cancelled' },
        { orderId: 'tp-2', status: 'already-gone', detail: '110001 order not exists' },
      ],
    };
    await audit.record([entry]);

    const items = await auditItems(table.tableName, 'acct-1', T0);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      PK: `AUDIT#acct-1#${new Date(T0).toISOString().slice(0, 10)}`,
      SK: expect.stringMatching(new RegExp(`^${new Date(T0).toISOString().replaceAll('.', '\\.')}#audit-`)),
      accountId: 'acct-1',
      at: T0,
      phase: 'confirm',
      shadow: false,
      symbol: 'BTCUSDT',
      positionIdx: 0,
      decision: 'cancel-orphans',
      reason: 'closed-with-evidence',
      message: cancel.message,
      alarm: false,
      snapshotIds: ['snap-1', 'snap-2'],
      evidenceIds: ['f-1'],
      orderIds: ['tp-1'],
      ordersLeftAloneIds: ['sl-unknown-age'],
      cancels: entry.cancels,
      expiresAt: Math.ceil((T0 + 90 * DAY_MS) / 1000),
    });
  });

  it('writes every entry as its own item, one write each, kept for the configured days', async () => {
    const table = await dynamo.freshTable();
    const audit = new DynamoAudit({ ...table, retentionDays: 30 });
    const entries: AuditEntry[] = Array.from({ length: 60 }, (_, i) => ({
      accountId: 'acct-1',
      at: T0 + 1_000,
      phase: 'check',
      decision: stillOpen(i),
      shadow: true,
    }));
    await audit.record(entries);
    expect(audit.ops.writes).toBe(60);

    const items = await auditItems(table.tableName, 'acct-1', T0);
    expect(items).toHaveLength(60);
    expect(new Set(items.map((i) => i.symbol)).size).toBe(60);
    for (const item of items) {
      expect(item).toMatchObject({ decision: 'still-open', alarm: true, shadow: true, evidenceIds: [] });
      expect(item).not.toHaveProperty('cancels');
      expect(item.expiresAt).toBe(Math.ceil((T0 + 1_000 + 30 * DAY_MS) / 1000));
    }
  });

  it('appends with PutItem alone: the one call IAM allows the worker in audit partitions', async () => {
    const { tableName } = await dynamo.freshTable();
    const client = localDynamoDbClient(dynamo.endpoint());
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const audit = new DynamoAudit({ client, tableName });
      await audit.record(
        [1, 2, 3].map((i) => ({
          accountId: 'acct-1',
          at: T0 + i,
          phase: 'check' as const,
          decision: stillOpen(i),
          shadow: false,
        })),
      );
      expect(commands).toEqual(['PutItemCommand', 'PutItemCommand', 'PutItemCommand']);
      await audit.record([]);
      expect(commands).toHaveLength(3);
    } finally {
      client.destroy();
    }
  });

  it('never overwrites an entry: a Put aimed at an existing key is refused and the entry stays', async () => {
    const table = await dynamo.freshTable();
    // An id source that repeats itself, so a second entry of the same millisecond hits the first's key.
    const audit = new DynamoAudit({ ...table, ids: { next: (prefix) => `${prefix}-fixed` } });
    const first: AuditEntry = {
      accountId: 'acct-1',
      at: T0,
      phase: 'check',
      decision: stillOpen(1),
      shadow: false,
    };
    await audit.record([first]);

    const second: AuditEntry = { ...first, phase: 'confirm', decision: cancel, shadow: true };
    await expect(audit.record([second])).rejects.toThrow(AuditKeyCollisionError);
    // The refused write still counts: DynamoDB bills a failed condition.
    expect(audit.ops.writes).toBe(2);

    const items = await auditItems(table.tableName, 'acct-1', T0);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      phase: 'check',
      decision: 'still-open',
      symbol: 'SYM1USDT',
      shadow: false,
    });
  });

  it('writes the other entries of a call when one collides, then reports the collision', async () => {
    const table = await dynamo.freshTable();
    let n = 0;
    // The first two ids are equal: entries 1 and 2 of the same millisecond collide, entry 3 does not.
    const audit = new DynamoAudit({ ...table, ids: { next: (prefix) => `${prefix}-${n++ < 2 ? 0 : n}` } });
    const entries: AuditEntry[] = [1, 2, 3].map((i) => ({
      accountId: 'acct-1',
      at: T0,
      phase: 'check',
      decision: stillOpen(i),
      shadow: false,
    }));
    await expect(audit.record(entries)).rejects.toThrow(/already exists; not overwritten/);
    expect(audit.ops.writes).toBe(3);
    const symbols = (await auditItems(table.tableName, 'acct-1', T0)).map((i) => i.symbol);
    expect(symbols).toHaveLength(2);
    expect(symbols).toContain('SYM3USDT');
  });

  it('files entries under the UTC day of their time', async () => {
    const table = await dynamo.freshTable();
    const audit = new DynamoAudit(table);
    // The last millisecond of T0's UTC day.
    const lateEvening = Math.floor(T0 / DAY_MS) * DAY_MS + DAY_MS - 1;
    await audit.record([
      { accountId: 'acct-1', at: lateEvening, phase: 'check', decision: stillOpen(1), shadow: false },
      { accountId: 'acct-1', at: lateEvening + 1, phase: 'check', decision: stillOpen(2), shadow: false },
    ]);
    expect((await auditItems(table.tableName, 'acct-1', lateEvening)).map((i) => i.symbol)).toEqual([
      'SYM1USDT',
    ]);
    expect((await auditItems(table.tableName, 'acct-1', lateEvening + 1)).map((i) => i.symbol)).toEqual([
      'SYM2USDT',
    ]);
  });
});

describe('batchWriteAll', () => {
  /** A document client that leaves the first `stubborn` items of every call unprocessed, `rounds` times. */
  function flakyClient(rounds: number, stubborn: number) {
    const calls: number[] = [];
    let left = rounds;
    const doc = {
      send: async (command: BatchWriteCommand) => {
        const requests = command.input.RequestItems?.tbl ?? [];
        calls.push(requests.length);
        if (left-- <= 0) return {};
        return { UnprocessedItems: { tbl: requests.slice(0, stubborn) } };
      },
    } as unknown as DynamoDBDocumentClient;
    return { doc, calls };
  }
  const requests = Array.from({ length: 30 }, (_, i) => ({ PutRequest: { Item: { PK: `p${i}`, SK: 's' } } }));
  const noWait = async () => {};

  it('splits into chunks of 25 and writes UnprocessedItems again until none are left', async () => {
    const { doc, calls } = flakyClient(2, 3);
    const ops = { reads: 0, writes: 0 };
    await batchWriteAll(doc, 'tbl', requests, ops, noWait);
    expect(Math.max(...calls)).toBeLessThanOrEqual(25);
    // Two chunks (25 + 5); two rounds hand 3 items back, which are sent again.
    expect(calls.filter((n) => n === 3).length).toBeGreaterThanOrEqual(2);
    expect(ops.writes).toBe(30);
  });

  it('fails, naming how many items stayed unprocessed, when DynamoDB never takes them', async () => {
    const { doc } = flakyClient(1_000, 2);
    await expect(batchWriteAll(doc, 'tbl', requests, { reads: 0, writes: 0 }, noWait)).rejects.toThrow(
      UnprocessedWritesError,
    );
    await expect(batchWriteAll(doc, 'tbl', requests, { reads: 0, writes: 0 }, noWait)).rejects.toThrow(
      /2 of (25|5) items to tbl stayed unprocessed/,
    );
  });
});
