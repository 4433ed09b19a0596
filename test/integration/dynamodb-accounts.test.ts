import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAccounts, InvalidAccountRecordError } from '#adapters/dynamodb/dynamo-accounts.js';
import { Keys } from '#adapters/dynamodb/table.js';
import type { AccountRecord } from '#ports/accounts.js';
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

  it('claims a schedule window once, for one hour', async () => {
    const table = await dynamo.freshTable();
    // The wall clock, not T0: a claim kept one hour from the top of the hour could already be behind
    // it, and DynamoDB Local sweeps expired items.
    const now = Math.floor(Date.now() / 1_000) * 1_000;
    const accounts = new DynamoAccounts({ ...table, clock: { now: () => now } });
    expect(await accounts.claimScheduleWindow('acct-1', '29453760')).toBe(true);
    expect(await accounts.claimScheduleWindow('acct-1', '29453760')).toBe(false);
    expect(await accounts.claimScheduleWindow('acct-1', '29453761')).toBe(true);
    expect(await accounts.claimScheduleWindow('acct-2', '29453760')).toBe(true);

    const claim = await dynamo
      .doc()
      .send(new GetCommand({ TableName: table.tableName, Key: Keys.scheduleClaim('acct-1', '29453760') }));
    expect(claim.Item?.expiresAt).toBe((now + 3_600_000) / 1000);
  });

  it('lets exactly one of many racing schedulers claim a window', async () => {
    const accounts = new DynamoAccounts(await dynamo.freshTable());
    const results = await Promise.all(
      Array.from({ length: 20 }, () => accounts.claimScheduleWindow('acct-1', '29453760')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
