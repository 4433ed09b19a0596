import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBybitSession } from '#adapters/bybit/bybit-session.js';
import { type BybitSimulator, noFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import {
  limitHeaders,
  requestLines,
  type StubReply,
  stubSession,
  useBybitStub,
} from '#test/support/bybit-stub.js';
import { changesOf } from '#test/support/session-views.js';
import { rawExecution, T0, trackedBtcLong } from '#test/unit/bybit-fixtures.js';

/**
 * The adapter's pacing through the real client: against the scripted stub, what it does with a 10006
 * in the middle of a listing; against the Bybit simulator at the harshest limit (10 requests per second
 * per account), a burst that would have run into it.
 */

const stub = useBybitStub();
const NOW = T0 + 10_000;

const page = (items: unknown[], cursor: string): StubReply => ({
  headers: limitHeaders(NOW),
  body: {
    retCode: 0,
    retMsg: 'OK',
    result: { category: 'linear', list: items, nextPageCursor: cursor },
    retExtInfo: {},
    time: NOW,
  },
});
const tooManyVisits = (resetAt: number): StubReply => ({
  headers: limitHeaders(resetAt, 0),
  body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: NOW },
});
const tracked = trackedBtcLong();
/** A full first page of fills (funding rows), so that its cursor leads on to a second. */
const firstPage = Array.from({ length: 100 }, (_, i) =>
  rawExecution({ execId: `x-f${i}`, execType: 'Funding', execQty: '', closedSize: '' }),
);
const closing = rawExecution({ execId: 'x-sl', stopOrderType: 'StopLoss', seq: 8_172_331_010 });

describe('a 10006 in the middle of a listing', () => {
  it('is waited out when its reset is near, and the same page asked again: the pages read survive', async () => {
    let refused = false;
    stub.handler = (req) => {
      if (req.query.get('cursor') === null) return page(firstPage, 'p2');
      if (!refused) {
        refused = true;
        return tooManyVisits(NOW + 400);
      }
      return page([closing], '');
    };
    const waits: number[] = [];
    const session = stubSession(stub.baseUrl, {
      clock: { now: () => NOW },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const evidence = await changesOf(session, tracked);
    expect(evidence).toMatchObject({ status: 'known', changes: [{ id: 'x-sl', kind: 'stop-loss' }] });
    expect(requestLines(stub.requests)).toEqual([
      'GET /v5/execution/list',
      'GET /v5/execution/list cursor=p2',
      'GET /v5/execution/list cursor=p2',
    ]);
    expect(waits).toEqual([400]);
  });

  it('makes the listing unknown when its reset is far, and sends nothing more on that endpoint before it', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null ? page(firstPage, 'p2') : tooManyVisits(NOW + 5_000);
    const session = stubSession(stub.baseUrl, { clock: { now: () => NOW }, sleep: async () => {} });
    expect(await changesOf(session, tracked)).toMatchObject({
      status: 'unknown',
      failure: { reason: 'rate-limited', exchangeCode: 10006, retryAt: NOW + 5_000 },
    });
    const sent = stub.requests.length;
    expect(await changesOf(session, tracked)).toMatchObject({
      status: 'unknown',
      failure: { reason: 'rate-limited', retryAt: NOW + 5_000, detail: expect.stringMatching(/not sent/) },
    });
    expect(stub.requests).toHaveLength(sent);
  });
});

describe('a burst at the harshest limit (the Bybit simulator, 10 requests per second per account)', () => {
  let sim: BybitSimulator;
  const account = { id: 'acct-burst', apiKey: 'sim-key-burst', apiSecret: 'sim-secret-burst-0000000000' };
  beforeAll(async () => {
    sim = await startBybitSimulator({
      seed: 5,
      rateLimitPerSecond: 10,
      faults: noFaults,
      accounts: [{ ...account, positionMode: 'one-way' }],
    });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('sends no cancel the limit would refuse: fifteen at once are ten cancelled and five not sent, then cancelled a second later', async () => {
    sim.admin.setPrice('ETHUSDT', '3000');
    sim.admin.openPosition({ accountId: account.id, symbol: 'ETHUSDT', side: 'Buy', qty: '1' });
    const orders = Array.from({ length: 15 }, (_, i) =>
      sim.admin.placeProtectiveOrder({
        accountId: account.id,
        symbol: 'ETHUSDT',
        kind: 'stop-loss',
        triggerPrice: String(2000 + i),
      }),
    );
    const session = createBybitSession({
      baseUrl: sim.url,
      apiKey: account.apiKey,
      apiSecret: account.apiSecret,
      ids: { next: (p) => `${p}-1` },
    });
    const first = await Promise.all(orders.map((id) => session.cancelOrder('ETHUSDT', id)));
    expect(first.filter((o) => o.status === 'cancelled')).toHaveLength(10);
    const unsent = first.filter((o) => o.status === 'failed');
    expect(unsent).toHaveLength(5);
    // Refused by the pacer, not by Bybit: no 10006 came back, nothing waited after its last look.
    for (const o of unsent)
      expect(o).toMatchObject({ reason: 'rate-limited', detail: expect.stringMatching(/not sent/) });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await Promise.all(unsent.map((o) => session.cancelOrder('ETHUSDT', o.orderId)));
    expect(second.map((o) => o.status)).toEqual(unsent.map(() => 'cancelled'));
    expect(sim.admin.openOrders(account.id)).toEqual([]);
  });
});
