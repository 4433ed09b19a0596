import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAccounts, InvalidAccountRecordError } from '#adapters/dynamodb/dynamo-accounts.js';
import { DynamoScheduleClaims } from '#adapters/dynamodb/dynamo-schedule.js';
import { Keys } from '#adapters/dynamodb/table.js';
import type { AccountRecord } from '#ports/accounts.js';
import { scheduleBucketOf } from '#ports/schedule.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { account } from '#test/support/records.js';

const dynamo = useDynamoDbLocal();

async function collect(iterable: AsyncIterable<AccountRecord>): Promise<AccountRecord[]> {
  const out: AccountRecord[] = [];
  for await (const r of iterable) out.push(r);
  return out;
}

describe('DynamoAccounts on DynamoDB Local', () => {
  it('lists every enabled account across many pages and skips disabled ones', async () => {
    const table = await dynamo.freshTable();
    const accounts = new DynamoAccounts({ ...table, pageSize: 4 });
    const records = Array.from({ length: 23 }, (_, i) =>
      account(`acct-${String(i).padStart(2, '0')}`, { enabled: i % 5 !== 0 }),
    );
    for (const r of records) await accounts.put(r);

    const listed = await collect(accounts.listEnabled());
    expect(listed.map((r) => r.accountId).sort()).toEqual(
      records.filter((r) => r.enabled).map((r) => r.accountId),
    );
    expect(listed.every((r) => r.enabled)).toBe(true);
    // 23 records, 4 a page: at least 6 pages were read.
    expect(accounts.ops.reads).toBeGreaterThanOrEqual(6);
  });

  it('keeps account records with their settings and exchange options as written', async () => {
    const accounts = new DynamoAccounts(await dynamo.freshTable());
    const full = account('acct-full', {
      exchange: {
        baseUrl: 'https://api-testnet.bybit.com',
        category: 'inverse',
        settleCoins: ['BTC', 'ETH'],
      },
      settings: { shadow: true, capPerAccount: 2, confirmDelayMs: 45_000 },
    });
    await accounts.put(full);
    expect(await accounts.get('acct-full')).toEqual(full);
    expect(await accounts.get('acct-missing')).toBeUndefined();
  });

  it('reports and skips an invalid record without stopping the listing', async () => {
    const table = await dynamo.freshTable();
    const problems: InvalidAccountRecordError[] = [];
    const accounts = new DynamoAccounts({ ...table, pageSize: 2, onInvalidRecord: (e) => problems.push(e) });
    await accounts.put(account('acct-a'));
    await accounts.put(account('acct-c'));
    // Written by hand (an operator's typo): no credentialsRef, and `enabled` as a string.
    const { credentialsRef: _missing, ...broken } = account('acct-b');
    await dynamo.doc().send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...broken, enabled: 'yes', ...Keys.account('acct-b'), kind: 'account' },
      }),
    );

    expect((await collect(accounts.listEnabled())).map((r) => r.accountId)).toEqual(['acct-a', 'acct-c']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(InvalidAccountRecordError);
    expect(problems[0]?.message).toMatch(/ACCOUNT#acct-b is invalid/);
    expect(problems[0]?.message).toMatch(/enabled/);
    expect(problems[0]?.message).toMatch(/credentialsRef/);
    // A direct read of it is an error, not "unknown account".
    await expect(accounts.get('acct-b')).rejects.toThrow(InvalidAccountRecordError);
  });

  it('refuses to store an invalid record', async () => {
    const accounts = new DynamoAccounts(await dynamo.freshTable());
    const invalid = { ...account('acct-x'), exchange: { category: 'spot', settleCoins: [] } };
    await expect(accounts.put(invalid as unknown as AccountRecord)).rejects.toThrow(/category|settleCoins/);
    expect(await accounts.get('acct-x')).toBeUndefined();
  });

  it('lists each enabled account in exactly one shard of the schedule index, page by page', async () => {
    const table = await dynamo.freshTable();
    const accounts = new DynamoAccounts({ ...table, pageSize: 7 });
    const records = Array.from({ length: 60 }, (_, i) => account(`acct-${i}`, { enabled: i % 6 !== 0 }));
    for (const r of records) await accounts.put(r);
    const enabled = records
      .filter((r) => r.enabled)
      .map((r) => r.accountId)
      .sort();
    for (const shards of [1, 4, 16] as const) {
      const listed: string[] = [];
      for (let shard = 0; shard < shards; shard++) {
        for (const r of await collect(accounts.listShard(shard, shards))) {
          expect(scheduleBucketOf(r.accountId) % shards).toBe(shard);
          listed.push(r.accountId);
        }
      }
      expect(listed.sort()).toEqual(enabled);
    }
  });

  it('indexes a record stored without a bucket, which a sharded listing would otherwise miss', async () => {
    const table = await dynamo.freshTable();
    const accounts = new DynamoAccounts(table);
    // Stored as before the index existed: no scheduleBucket.
    await dynamo.doc().send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...account('old-timer'), ...Keys.account('old-timer'), kind: 'account' },
      }),
    );
    const inShards = async () => {
      const ids: string[] = [];
      for (let shard = 0; shard < 2; shard++) {
        for (const r of await collect(accounts.listShard(shard, 2))) ids.push(r.accountId);
      }
      return ids;
    };
    expect(await inShards()).toEqual([]);
    expect((await collect(accounts.listShard(0, 1))).map((r) => r.accountId)).toEqual(['old-timer']);
    // Out of time before it starts: nothing written, the next sweep does it.
    expect(await accounts.indexForSchedule(Date.now() - 1)).toBe(0);
    expect(await inShards()).toEqual([]);
    expect(await accounts.indexForSchedule(Date.now() + 60_000)).toBe(1);
    expect(await inShards()).toEqual(['old-timer']);
    expect(await accounts.indexForSchedule(Date.now() + 60_000)).toBe(0);
    // The bucket is storage: the record reads back as it was written.
    expect(await accounts.get('old-timer')).toEqual(account('old-timer'));
  });
});

describe('DynamoScheduleClaims on DynamoDB Local', () => {
  const shard = { minute: 29_453_760, shard: 3, shards: 8 } as const;

  it('claims a shard-minute once, for one hour, and moves it only along its states', async () => {
    const table = await dynamo.freshTable();
    // The wall clock: a claim kept one hour from an old time could already be swept by DynamoDB Local.
    const now = Math.floor(Date.now() / 1_000) * 1_000;
    const claims = new DynamoScheduleClaims({ ...table, clock: { now: () => now } });
    expect(await claims.claim(shard)).toBe(true);
    expect(await claims.claim(shard)).toBe(false);
    expect(await claims.claim({ ...shard, shards: 16 })).toBe(true);
    expect(await claims.shardsOf(shard.minute)).toEqual(
      expect.arrayContaining([
        { ...shard, status: 'claimed' },
        { ...shard, shards: 16, status: 'claimed' },
      ]),
    );
    expect(await claims.start(shard, now)).toBe(true);
    expect(await claims.start(shard, now)).toBe(false);
    await claims.giveBack(shard);
    expect(await claims.start(shard, now + 1)).toBe(true);
    await claims.finish(shard, { accounts: 10, checks: 60 });
    expect(await claims.markLost(shard)).toBe(false);
    expect(await claims.markLost({ ...shard, shards: 16 })).toBe(true);
    expect(await claims.markLost({ ...shard, shards: 16 })).toBe(false);
    const stored = await dynamo
      .doc()
      .send(new GetCommand({ TableName: table.tableName, Key: Keys.scheduleShard(shard.minute, 3, 8) }));
    expect(stored.Item).toMatchObject({ status: 'done', startedAt: now + 1, accounts: 10, checks: 60 });
    expect(stored.Item?.expiresAt).toBe((now + 3_600_000) / 1000);
  });

  it('lets exactly one of many racing runs claim, and one start, a shard-minute', async () => {
    const claims = new DynamoScheduleClaims(await dynamo.freshTable());
    const claimed = await Promise.all(Array.from({ length: 20 }, () => claims.claim(shard)));
    expect(claimed.filter(Boolean)).toHaveLength(1);
    const started = await Promise.all(Array.from({ length: 20 }, () => claims.start(shard, 1)));
    expect(started.filter(Boolean)).toHaveLength(1);
  });
});
