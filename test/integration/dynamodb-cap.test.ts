import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { DynamoTableConfig } from '#adapters/dynamodb/document.js';
import { type CapLimits, CapUnavailableError, DynamoCap } from '#adapters/dynamodb/dynamo-cap.js';
import { DAY_MS, Keys } from '#adapters/dynamodb/table.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import type { CapVerdict } from '#core/types.js';
import { localDynamoDbClient } from '#local/standins/clients.js';
import { type CancelCap, capWindowId } from '#ports/cap.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';
import { T0 } from '#test/support/records.js';

const dynamo = useDynamoDbLocal();
const WINDOW = 60_000;
/** A moment well inside a window, so `now + 1 s` is the same window. */
const NOW = Math.floor(T0 / WINDOW) * WINDOW + 10_000;

const granted = (verdicts: readonly CapVerdict[]) => verdicts.filter((v) => v.status === 'granted').length;

/**
 * Races `requests`. Under heavy contention a request may end in `CapUnavailableError` (contention
 * that did not clear): that is a non-grant, which is the safe answer; any other failure is a defect.
 */
async function race(requests: readonly Promise<CapVerdict>[]): Promise<CapVerdict[]> {
  const settled = await Promise.allSettled(requests);
  const verdicts: CapVerdict[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') verdicts.push(s.value);
    else expect(s.reason).toBeInstanceOf(CapUnavailableError);
  }
  return verdicts;
}

/** Both implementations must bound the same way: the simulation's figures rest on MemoryCap. */
const implementations: [string, (limits: CapLimits) => Promise<CancelCap>][] = [
  ['MemoryCap', async (limits) => new MemoryCap(limits)],
  ['DynamoCap', async (limits) => new DynamoCap(await dynamo.freshTable(), limits)],
];

describe.each(implementations)('%s', (_name, makeCap) => {
  it('grants exactly the per-account limit to 50 racing requests, and names the account budget', async () => {
    const cap = await makeCap({ perAccount: 3, global: 1_000, windowMs: WINDOW });
    const verdicts = await race(Array.from({ length: 50 }, () => cap.acquire('acct-1', 1, NOW)));
    expect(granted(verdicts)).toBe(3);
    expect(verdicts.filter((v) => v.status === 'refused')).toEqual(
      Array.from({ length: verdicts.length - 3 }, () => ({
        status: 'refused',
        windowId: capWindowId(NOW, WINDOW),
        scope: 'account',
        limit: 3,
      })),
    );
    // Another account has its own budget.
    expect(await cap.acquire('acct-2', 1, NOW)).toEqual({
      status: 'granted',
      windowId: capWindowId(NOW, WINDOW),
      slots: 1,
    });
  });

  it('grants exactly the global limit to 50 racing accounts, and names the global budget', async () => {
    const cap = await makeCap({ perAccount: 10, global: 3, windowMs: WINDOW });
    const verdicts = await race(Array.from({ length: 50 }, (_, i) => cap.acquire(`acct-${i}`, 1, NOW)));
    expect(granted(verdicts)).toBe(3);
    for (const v of verdicts)
      if (v.status === 'refused') expect(v).toMatchObject({ scope: 'global', limit: 3 });
  });

  it('grants again in the next window', async () => {
    const cap = await makeCap({ perAccount: 2, global: 2, windowMs: WINDOW });
    expect((await cap.acquire('acct-1', 2, NOW)).status).toBe('granted');
    expect(await cap.acquire('acct-1', 1, NOW + 1_000)).toMatchObject({
      status: 'refused',
      scope: 'account',
    });
    const next = await cap.acquire('acct-1', 2, NOW + WINDOW);
    expect(next).toEqual({ status: 'granted', windowId: capWindowId(NOW + WINDOW, WINDOW), slots: 2 });
  });

  it('takes several slots from both budgets or from neither', async () => {
    const cap = await makeCap({ perAccount: 3, global: 4, windowMs: WINDOW });
    expect((await cap.acquire('acct-1', 2, NOW)).status).toBe('granted');
    expect(await cap.acquire('acct-1', 2, NOW)).toMatchObject({ status: 'refused', scope: 'account' });
    expect((await cap.acquire('acct-1', 1, NOW)).status).toBe('granted');
    // Global has 1 left: acct-2 asking for 2 is refused, and its own budget must stay untouched.
    expect(await cap.acquire('acct-2', 2, NOW)).toMatchObject({
      status: 'refused',
      scope: 'global',
      limit: 4,
    });
    expect((await cap.acquire('acct-2', 1, NOW)).status).toBe('granted');
    expect(await cap.acquire('acct-3', 1, NOW)).toMatchObject({ status: 'refused', scope: 'global' });
  });

  it('refuses a request larger than a whole budget', async () => {
    const cap = await makeCap({ perAccount: 3, global: 5, windowMs: WINDOW });
    expect(await cap.acquire('acct-1', 4, NOW)).toMatchObject({
      status: 'refused',
      scope: 'account',
      limit: 3,
    });
    const small = await makeCap({ perAccount: 10, global: 5, windowMs: WINDOW });
    expect(await small.acquire('acct-1', 6, NOW)).toMatchObject({
      status: 'refused',
      scope: 'global',
      limit: 5,
    });
    expect((await small.acquire('acct-1', 5, NOW)).status).toBe('granted');
  });

  it("applies an account's own limit when its record overrides the default, the global budget still shared", async () => {
    const cap = await makeCap({ perAccount: 2, global: 6, windowMs: WINDOW });
    // acct-1 may cancel 4 per window; acct-2 keeps the default 2.
    expect((await cap.acquire('acct-1', 3, NOW, 4)).status).toBe('granted');
    expect(await cap.acquire('acct-1', 2, NOW, 4)).toMatchObject({
      status: 'refused',
      scope: 'account',
      limit: 4,
    });
    expect((await cap.acquire('acct-1', 1, NOW, 4)).status).toBe('granted');
    expect(await cap.acquire('acct-2', 3, NOW)).toMatchObject({
      status: 'refused',
      scope: 'account',
      limit: 2,
    });
    expect((await cap.acquire('acct-2', 2, NOW)).status).toBe('granted');
    // 4 + 2 = the global 6: a generous account cannot spend the others' share beyond the global cap.
    expect(await cap.acquire('acct-3', 1, NOW, 100)).toMatchObject({ status: 'refused', scope: 'global' });
  });
});

describe('DynamoCap on DynamoDB Local', () => {
  it('leaves nothing taken from the account budget when the global budget refuses', async () => {
    const table = await dynamo.freshTable();
    await new DynamoCap(table, { perAccount: 5, global: 1, windowMs: WINDOW }).acquire('acct-1', 1, NOW);
    const tight = new DynamoCap(table, { perAccount: 5, global: 1, windowMs: WINDOW });
    expect(await tight.acquire('acct-2', 1, NOW)).toMatchObject({ status: 'refused', scope: 'global' });
    // Same counters, a larger global budget: acct-2 still has all 5 of its own.
    const roomy = new DynamoCap(table, { perAccount: 5, global: 100, windowMs: WINDOW });
    expect((await roomy.acquire('acct-2', 5, NOW)).status).toBe('granted');
  });

  it('counts in one transaction per request and expires its counters a day after the window', async () => {
    const table = await dynamo.freshTable();
    const cap = new DynamoCap(table, { perAccount: 5, global: 5, windowMs: WINDOW });
    await cap.acquire('acct-1', 2, NOW);
    await cap.acquire('acct-1', 1, NOW);
    expect(cap.ops).toEqual({ reads: 0, writes: 4 });
    const windowId = capWindowId(NOW, WINDOW);
    const windowEnd = (Math.floor(NOW / WINDOW) + 1) * WINDOW;
    for (const key of [Keys.capAccount(windowId, 'acct-1'), Keys.capGlobal(windowId)]) {
      const item = (await dynamo.doc().send(new GetCommand({ TableName: table.tableName, Key: key }))).Item;
      expect(item).toMatchObject({ count: 3, expiresAt: Math.ceil((windowEnd + DAY_MS) / 1000) });
    }
  });

  it('rejects a negative or fractional slot count as a programming error', async () => {
    const cap = new DynamoCap(await dynamo.freshTable(), { perAccount: 5, global: 5, windowMs: WINDOW });
    await expect(cap.acquire('acct-1', -1, NOW)).rejects.toThrow(RangeError);
    await expect(cap.acquire('acct-1', 1.5, NOW)).rejects.toThrow(RangeError);
  });
});

/**
 * DynamoDB Local runs transactions one at a time, so it never cancels one for `TransactionConflict` as
 * DynamoDB does when workers race on the global counter. This injects such cancellations in front of
 * the real server: the first `conflicts` TransactWriteItems calls are cancelled as DynamoDB would.
 */
async function tableWithConflicts(
  conflicts: number,
  codes: readonly string[] = ['TransactionConflict', 'None'],
): Promise<DynamoTableConfig> {
  const { tableName } = await dynamo.freshTable();
  const client = localDynamoDbClient(dynamo.endpoint());
  let left = conflicts;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'TransactWriteItemsCommand' && left > 0) {
        left--;
        throw new TransactionCanceledException({
          message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
          $metadata: {},
          CancellationReasons: codes.map((Code) => ({ Code })),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectTransactionConflicts' },
  );
  return { client, tableName };
}

describe('DynamoCap under transaction conflicts', () => {
  const noWait = async () => {};
  const limits = { perAccount: 3, global: 3, windowMs: WINDOW };

  it('tries a conflicted transaction again and then grants', async () => {
    const cap = new DynamoCap(await tableWithConflicts(2), limits, noWait);
    expect(await cap.acquire('acct-1', 1, NOW)).toMatchObject({ status: 'granted', slots: 1 });
    expect(cap.contentionRetries).toBe(2);
  });

  it('gives up with CapUnavailableError, never a grant, when the conflict does not clear', async () => {
    const table = await tableWithConflicts(100);
    const cap = new DynamoCap(table, limits, noWait);
    await expect(cap.acquire('acct-1', 1, NOW)).rejects.toThrow(CapUnavailableError);
    const counter = await dynamo
      .doc()
      .send(new GetCommand({ TableName: table.tableName, Key: Keys.capGlobal(capWindowId(NOW, WINDOW)) }));
    expect(counter.Item).toBeUndefined();
  });

  it('does not retry a cancellation that contention does not explain', async () => {
    const cap = new DynamoCap(await tableWithConflicts(1, ['ValidationError', 'None']), limits, noWait);
    await expect(cap.acquire('acct-1', 1, NOW)).rejects.toThrow(/ValidationError/);
    expect(cap.contentionRetries).toBe(0);
  });
});
