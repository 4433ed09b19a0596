import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import { CorruptItemError } from '#adapters/dynamodb/records.js';
import { DAY_MS, Keys } from '#adapters/dynamodb/table.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import type { TrackedPosition } from '#core/types.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { protectionStoreContract } from '#test/support/protection-store-contract.js';
import { order, suspect, T0, tracked } from '#test/support/records.js';
import { storeContract } from '#test/support/store-contract.js';

const dynamo = useDynamoDbLocal();

storeContract('MemoryStore', async () => new MemoryStore());
storeContract('DynamoStore', async () => new DynamoStore(await dynamo.freshTable()));
protectionStoreContract('MemoryStore', async () => new MemoryStore());
protectionStoreContract('DynamoStore', async () => new DynamoStore(await dynamo.freshTable()));

describe('DynamoStore on DynamoDB Local', () => {
  it('reads a suspect written before its looks were bounded (every time and id kept) as the bounded record', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    const { missingLooks: _n, lastMissingAt: _l, ...current } = suspect();
    const ids = Array.from({ length: 12 }, (_, i) => `snap-${i}`);
    await dynamo.doc().send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...current,
          ...Keys.suspect('acct-1', 'BTCUSDT', 0),
          kind: 'suspect',
          missingSeenAt: ids.map((_, i) => T0 + i * 1_000),
          missingSnapshotIds: ids,
        },
      }),
    );
    const [loaded] = (await store.loadAccountView('acct-1')).suspects;
    expect(loaded).toMatchObject({
      missingLooks: 12,
      lastMissingAt: T0 + 11_000,
      missingSnapshotIds: ['snap-0', 'snap-1', 'snap-9', 'snap-10', 'snap-11'],
    });
    expect(loaded).not.toHaveProperty('missingSeenAt');
    // And it can be claimed and moved on like any other.
    expect(await store.claimSuspect(current, 0, T0 + 60_000, T0 + 90_000)).toBeDefined();
  });

  it('loads a steady-state account with one read', async () => {
    const store = new DynamoStore(await dynamo.freshTable());
    await store.upsertTracked([tracked(), tracked({ symbol: 'ETHUSDT' })]);
    await store.createSuspect(suspect());
    await store.saveAccountState({
      accountId: 'acct-1',
      consecutiveDistrusted: 0,
      lastCompleteSnapshotAt: T0,
    });
    const before = store.ops.reads;
    const view = await store.loadAccountView('acct-1');
    expect(store.ops.reads - before).toBe(1);
    expect(view.tracked).toHaveLength(2);
    expect(view.suspects).toHaveLength(1);
    expect(view.state.lastCompleteSnapshotAt).toBe(T0);
  });

  it('writes a ledger larger than one batch and pages through a partition larger than 1 MB', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    const many: TrackedPosition[] = Array.from({ length: 60 }, (_, i) => tracked({ symbol: `SYM${i}USDT` }));
    // Four items of ~340 KB each (the limit is 400 KB): a Query page holds at most 1 MB, so two pages.
    const heavy = Array.from({ length: 4 }, (_, i) =>
      tracked({
        symbol: `HEAVY${i}USDT`,
        protectiveOrders: Array.from({ length: 2_000 }, (_, j) =>
          order({ orderId: `order-${i}-${j}-${'x'.repeat(60)}`, symbol: `HEAVY${i}USDT` }),
        ),
      }),
    );
    await store.upsertTracked(many);
    expect(store.ops.writes).toBe(60);
    for (const position of heavy) await store.upsertTracked([position]);

    const before = store.ops.reads;
    const view = await store.loadAccountView('acct-1');
    expect(store.ops.reads - before).toBeGreaterThanOrEqual(2);
    expect(view.tracked).toHaveLength(64);
    const loadedHeavy = view.tracked.filter((p) => p.symbol.startsWith('HEAVY'));
    expect(loadedHeavy.map((p) => p.protectiveOrders.length)).toEqual([2_000, 2_000, 2_000, 2_000]);
  });

  it('gives suspects a TTL a week past their next attempt, moved on claim; the ledger never expires', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    const s = suspect({ nextAttemptAt: T0 + 40_000 });
    await store.upsertTracked([s.position]);
    await store.createSuspect(s);
    const raw = async (key: { PK: string; SK: string }) =>
      (await dynamo.doc().send(new GetCommand({ TableName: table.tableName, Key: key }))).Item;

    const suspectKey = Keys.suspect('acct-1', 'BTCUSDT', 0);
    expect((await raw(suspectKey))?.expiresAt).toBe(Math.ceil((T0 + 40_000 + 7 * DAY_MS) / 1000));
    const claimed = await store.claimSuspect(s, 0, T0 + 41_000, T0 + 101_000);
    if (claimed === undefined) throw new Error('expected the claim to succeed');
    expect((await raw(suspectKey))?.expiresAt).toBe(Math.ceil((T0 + 101_000 + 7 * DAY_MS) / 1000));
    expect(await store.updateSuspect({ ...s, attempts: 1, nextAttemptAt: T0 + 500_000 }, claimed)).toBe(true);
    expect((await raw(suspectKey))?.expiresAt).toBe(Math.ceil((T0 + 500_000 + 7 * DAY_MS) / 1000));

    const ledgerItem = await raw(Keys.tracked('acct-1', 'BTCUSDT', 0));
    expect(ledgerItem).toBeDefined();
    expect(ledgerItem).not.toHaveProperty('expiresAt');
    // The TTL attribute is storage, not part of the record handed back.
    expect(await store.getSuspect(s)).not.toHaveProperty('expiresAt');
  });

  it('refuses to hand back a corrupt item instead of guessing', async () => {
    const table = await dynamo.freshTable();
    const store = new DynamoStore(table);
    const { attempts: _dropped, ...withoutAttempts } = suspect();
    await dynamo.doc().send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...withoutAttempts, ...Keys.suspect('acct-1', 'BTCUSDT', 0), kind: 'suspect' },
      }),
    );
    await expect(store.loadAccountView('acct-1')).rejects.toThrow(CorruptItemError);
    await expect(store.getSuspect(suspect())).rejects.toThrow(/SUSPECT#BTCUSDT#0 is corrupt: attempts/);
  });

  it('counts a refused create and a refused claim as writes (they consume capacity)', async () => {
    const store = new DynamoStore(await dynamo.freshTable());
    await store.createSuspect(suspect());
    await store.createSuspect(suspect());
    await store.claimSuspect(suspect(), 7, T0, T0 + 1);
    expect(store.ops).toEqual({ reads: 0, writes: 3 });
  });
});
