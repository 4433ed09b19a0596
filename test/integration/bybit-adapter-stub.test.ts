import { describe, expect, it } from 'vitest';
import type { BybitSessionConfig } from '#adapters/bybit/bybit-session.js';
import {
  STUB_KEY as KEY,
  limitHeaders,
  STUB_SECRET as SECRET,
  type StubReply,
  stubSession,
  useBybitStub,
} from '#test/support/bybit-stub.js';
import { changesOf, protectiveOrdersOf, recheckPosition } from '#test/support/session-views.js';
import { rawExecution, rawOrder, rawPosition, T0, trackedBtcLong } from '#test/unit/bybit-fixtures.js';

/**
 * The adapter over real HTTP against a scripted stub of the V5 endpoints: exercises RestClientV5's
 * signing, query building, header parsing and error paths with exact, deterministic answers. The
 * behavioural tests against the Bybit simulator live in bybit-adapter.test.ts; the recorded Bybit
 * answers in test/fixtures/bybit run through the same stub in bybit-fixtures-*.test.ts. Longer than
 * 400 lines because every method's suite shares the one scripted stub server started for the file.
 */

const stub = useBybitStub();

function v5(result: unknown, time = T0 + 10_000, over: Record<string, unknown> = {}): StubReply {
  return {
    headers: limitHeaders(time),
    body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time, ...over },
  };
}

const list = (items: unknown[], nextPageCursor = '') => ({ category: 'linear', list: items, nextPageCursor });

function session(over: Partial<BybitSessionConfig> = {}) {
  return stubSession(stub.baseUrl, { clock: { now: () => T0 + 10_000 }, ...over });
}

describe('fetchOpenPositions', () => {
  it('signs, asks 200 per page by settle coin, follows cursors past full pages, and reports the first page time', async () => {
    // Full pages (200 entries) lead on; the short third page ends the listing.
    const filler = (page: number) =>
      Array.from({ length: 199 }, (_, i) => rawPosition({ symbol: `F${page}X${i}USDT` }));
    stub.handler = (req) => {
      const cursor = req.query.get('cursor');
      if (cursor === null) return v5(list([rawPosition({ symbol: 'AUSDT' }), ...filler(1)], 'p2'), T0 + 1);
      if (cursor === 'p2')
        return v5(list([rawPosition({ symbol: 'BUSDT', size: '0', side: '' }), ...filler(2)], 'p3'), T0 + 2);
      return v5(list([rawPosition({ symbol: 'CUSDT', positionIdx: 2, side: 'Sell', seq: -1 })]), T0 + 3);
    };
    const snapshot = await session().fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'complete', snapshotId: 'snap-1', fetchedAt: T0 + 1, pages: 3 });
    // 401 entries listed; the zero-size one is not a position.
    expect(snapshot.positions).toHaveLength(400);
    expect(snapshot.positions.find((p) => p.symbol === 'BUSDT')).toBeUndefined();
    expect(snapshot.positions[0]).toEqual({
      symbol: 'AUSDT',
      positionIdx: 0,
      side: 'long',
      size: '0.5',
      updatedAt: T0,
      sequence: 8_172_331_004,
      protection: { stopLoss: '62000', markPrice: '64100', entryPrice: '64000.5' },
    });
    expect(snapshot.positions.at(-1)).toEqual({
      symbol: 'CUSDT',
      positionIdx: 2,
      side: 'short',
      size: '0.5',
      updatedAt: T0,
      protection: { stopLoss: '62000', markPrice: '64100', entryPrice: '64000.5' },
    });
    const first = stub.requests[0];
    expect(first?.path).toBe('/v5/position/list');
    expect(Object.fromEntries(first?.query ?? [])).toEqual({
      category: 'linear',
      settleCoin: 'USDT',
      limit: '200',
    });
    expect(first?.headers['x-bapi-api-key']).toBe(KEY);
    expect(first?.headers['x-bapi-sign']).toMatch(/^[0-9a-f]{64}$/);
    expect(stub.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'p2', 'p3']);
  });

  it("takes Bybit's cursor on a short last page as the end: one request, a complete snapshot", async () => {
    // Bybit's documented answer for a one-position list carried `nextPageCursor: "updateAt%3D…"`.
    stub.handler = () => v5(list([rawPosition()], 'updateAt%3D1672279322668'));
    const snapshot = await session().fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'complete', pages: 1 });
    expect(snapshot.positions).toHaveLength(1);
    expect(stub.requests).toHaveLength(1);
  });

  it('lists every configured settle coin', async () => {
    stub.handler = (req) => v5(list([rawPosition({ symbol: `BTC${req.query.get('settleCoin')}` })]));
    const snapshot = await session({ settleCoins: ['USDT', 'USDC'] }).fetchOpenPositions();
    expect(snapshot.status).toBe('complete');
    expect(snapshot.positions.map((p) => p.symbol)).toEqual(['BTCUSDT', 'BTCUSDC']);
  });

  it('an exactly full last page whose cursor leads to an empty page is complete, not truncated', async () => {
    const full = Array.from({ length: 200 }, (_, i) => rawPosition({ symbol: `P${i}USDT` }));
    stub.handler = (req) => (req.query.get('cursor') === null ? v5(list(full, 'p2')) : v5(list([], 'p2')));
    const snapshot = await session().fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'complete', pages: 2 });
    expect(snapshot.positions).toHaveLength(200);
  });

  it('a repeating cursor is unknown (cursor-loop)', async () => {
    stub.handler = (req) =>
      v5(
        list(
          Array.from({ length: 200 }, (_, i) =>
            rawPosition({ symbol: `S${req.query.get('cursor') ?? '0'}X${i}USDT` }),
          ),
          req.query.get('cursor') === 'a' ? 'b' : 'a',
        ),
      );
    expect(await session().fetchOpenPositions()).toMatchObject({
      status: 'unknown',
      failure: { reason: 'cursor-loop' },
    });
  });

  it('a schema mismatch on a later page is unknown; the valid entries are still presence', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null
        ? v5(
            list(
              Array.from({ length: 200 }, (_, i) => rawPosition({ symbol: i === 0 ? 'AUSDT' : `F${i}USDT` })),
              'p2',
            ),
          )
        : v5(list([rawPosition({ symbol: 'CUSDT', size: 1 }), rawPosition({ symbol: 'BUSDT' })]));
    const snapshot = await session().fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'unknown', pages: 1, failure: { reason: 'schema-mismatch' } });
    if (snapshot.status === 'unknown') expect(snapshot.failure.detail).toMatch(/list\.0\.size/);
    const symbols = snapshot.positions.map((p) => p.symbol);
    expect(symbols).toHaveLength(201);
    expect(symbols).toContain('AUSDT');
    expect(symbols).toContain('BUSDT');
    expect(symbols).not.toContain('CUSDT');
  });

  it('10006 is rate-limited with retryAt from X-Bapi-Limit-Reset-Timestamp', async () => {
    stub.handler = () => ({
      headers: limitHeaders(T0 + 11_500, 0),
      body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: T0 + 10_000 },
    });
    expect(await session().fetchOpenPositions()).toMatchObject({
      status: 'unknown',
      positions: [],
      failure: { reason: 'rate-limited', exchangeCode: 10006, retryAt: T0 + 11_500 },
    });
  });

  it('10002 is clock-skew; 10003 is auth-error', async () => {
    stub.handler = () =>
      v5({}, T0, { retCode: 10002, retMsg: 'invalid request, please check your server timestamp' });
    expect(await session().fetchOpenPositions()).toMatchObject({ failure: { reason: 'clock-skew' } });
    stub.handler = () => ({
      status: 401,
      body: { retCode: 10003, retMsg: 'API key is invalid.', result: {}, time: T0 },
    });
    expect(await session().fetchOpenPositions()).toMatchObject({
      status: 'unknown',
      failure: { reason: 'auth-error', exchangeCode: 10003 },
    });
  });

  it('a 5xx and a timeout are unknown; neither detail holds the key or secret', async () => {
    stub.handler = () => ({ status: 502, body: `<html>bad gateway ${KEY}</html>` });
    const bad = await session().fetchOpenPositions();
    expect(bad).toMatchObject({ status: 'unknown', failure: { reason: 'http-error' } });
    stub.handler = () => ({ ...v5(list([])), delayMs: 1_500 });
    const slow = await session({ requestTimeoutMs: 200 }).fetchOpenPositions();
    expect(slow).toMatchObject({ status: 'unknown', failure: { reason: 'timeout' } });
    for (const s of [bad, slow]) {
      expect(JSON.stringify(s)).not.toContain(KEY);
      expect(JSON.stringify(s)).not.toContain(SECRET);
    }
  });
});

describe('recheckPosition', () => {
  it('open, flat (size 0 listed) and absent (not listed)', async () => {
    stub.handler = () =>
      v5(
        list([
          rawPosition({ positionIdx: 1, side: 'Buy', size: '2' }),
          rawPosition({ positionIdx: 2, side: '', size: '0', updatedTime: '0' }),
        ]),
        T0 + 20_000,
      );
    const s = session();
    expect(await recheckPosition(s, 'BTCUSDT', 1)).toMatchObject({
      status: 'open',
      checkedAt: T0 + 20_000,
      position: { positionIdx: 1, side: 'long', size: '2' },
    });
    expect(await recheckPosition(s, 'BTCUSDT', 2)).toEqual({ status: 'flat', checkedAt: T0 + 20_000 });
    expect(await recheckPosition(s, 'BTCUSDT', 0)).toEqual({ status: 'absent', checkedAt: T0 + 20_000 });
    expect(stub.requests[0]?.query.get('symbol')).toBe('BTCUSDT');
    expect(stub.requests[0]?.query.get('settleCoin')).toBeNull();
  });

  it('an open row of the leg wins over a size-0 row of the same leg listed before it, even on a later page', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null
        ? v5(
            list(
              [
                rawPosition({ positionIdx: 0, side: '', size: '0', updatedTime: '0' }),
                ...Array.from({ length: 199 }, (_, i) =>
                  rawPosition({
                    symbol: 'BTCUSDT',
                    positionIdx: 1,
                    side: 'Buy',
                    size: '0',
                    updatedTime: String(i),
                  }),
                ),
              ],
              'page-2',
            ),
            T0 + 20_000,
          )
        : v5(list([rawPosition({ positionIdx: 0, side: 'Buy', size: '3' })]), T0 + 20_100);
    expect(await recheckPosition(session(), 'BTCUSDT', 0)).toMatchObject({
      status: 'open',
      position: { positionIdx: 0, side: 'long', size: '3' },
    });
    expect(stub.requests).toHaveLength(2);
  });

  it('a failure is unknown, never absent', async () => {
    stub.handler = () => ({ status: 503, body: 'unavailable' });
    expect(await recheckPosition(session(), 'BTCUSDT', 0)).toMatchObject({
      status: 'unknown',
      checkedAt: T0 + 10_000,
      failure: { reason: 'http-error' },
    });
  });
});

describe('fetchPositionChanges', () => {
  it('queries fills since the state, all pages, and attributes the close', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null
        ? v5(
            list(
              [
                rawExecution({
                  execId: 'x-funding',
                  execType: 'Funding',
                  execQty: '',
                  closedSize: '',
                  seq: 8_172_331_020,
                }),
                rawExecution({ execId: 'x-sl', stopOrderType: 'StopLoss', seq: 8_172_331_010 }),
                // Funding rows fill the page (100), so its cursor leads on.
                ...Array.from({ length: 98 }, (_, i) =>
                  rawExecution({ execId: `x-f${i}`, execType: 'Funding', execQty: '', closedSize: '' }),
                ),
              ],
              'h2',
            ),
            T0 + 30_000,
          )
        : v5(
            list([rawExecution({ execId: 'x-old', side: 'Buy', closedSize: '', seq: 8_172_331_004 })]),
            T0 + 30_100,
          );
    const evidence = await changesOf(session(), trackedBtcLong());
    expect(evidence).toEqual({
      status: 'known',
      searchedFrom: T0,
      searchedTo: T0 + 30_000,
      changes: [
        {
          id: 'x-sl',
          source: 'execution',
          time: T0 + 60_000,
          sequence: 8_172_331_010,
          closedQty: '0.5',
          openedQty: '0',
          kind: 'stop-loss',
          orderId: 'a1b2c3d4-0000-4000-8000-000000000001',
        },
      ],
    });
    // One position's symbol: its fills only, not every symbol's.
    expect(Object.fromEntries(stub.requests[0]?.query ?? [])).toEqual({
      category: 'linear',
      symbol: 'BTCUSDT',
      startTime: String(T0),
      limit: '100',
    });
    expect(stub.requests.map((r) => r.query.get('cursor'))).toEqual([null, 'h2']);
  });

  it('answers several positions of several symbols from one walk, from the earliest state', async () => {
    stub.handler = () =>
      v5(
        list([
          rawExecution({
            execId: 'x-eth',
            symbol: 'ETHUSDT',
            execQty: '2',
            closedSize: '2',
            seq: 50,
            execTime: String(T0 + 40_000),
          }),
          rawExecution({ execId: 'x-btc', seq: 8_172_331_010, execTime: String(T0 + 60_000) }),
        ]),
        T0 + 70_000,
      );
    const btc = trackedBtcLong();
    const eth = trackedBtcLong({
      symbol: 'ETHUSDT',
      size: '2',
      stateUpdatedAt: T0 - 10_000,
      stateSequence: 40,
    });
    const answers = await session({ clock: { now: () => T0 + 70_000 } }).fetchPositionChanges([btc, eth]);
    expect(answers.get('BTCUSDT#0')).toMatchObject({
      status: 'known',
      changes: [{ id: 'x-btc', closedQty: '0.5' }],
    });
    expect(answers.get('ETHUSDT#0')).toMatchObject({
      status: 'known',
      changes: [{ id: 'x-eth', closedQty: '2' }],
    });
    expect(stub.requests).toHaveLength(1);
    expect(stub.requests[0]?.query.get('startTime')).toBe(String(T0 - 10_000));
    // Several symbols: one account-wide walk serves them all.
    expect(stub.requests[0]?.query.get('symbol')).toBeNull();
  });

  it('splits an old state into 7-day windows (endTime - startTime <= 7 days)', async () => {
    stub.handler = () => v5(list([]));
    const week = 7 * 24 * 3_600_000;
    const s = session({ clock: { now: () => T0 + 2 * week + 1_000_000 } });
    expect(await changesOf(s, trackedBtcLong())).toMatchObject({ status: 'known', changes: [] });
    expect(stub.requests.map((r) => [r.query.get('startTime'), r.query.get('endTime')])).toEqual([
      [String(T0), String(T0 + week)],
      [String(T0 + week), String(T0 + 2 * week)],
      [String(T0 + 2 * week), null],
    ]);
  });

  it('any failing page makes the evidence unknown, never an empty known list', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null
        ? v5(
            list(
              Array.from({ length: 100 }, (_, i) => rawExecution({ execId: `fill-${i}` })),
              'h2',
            ),
          )
        : { status: 500, body: { retCode: 10016, retMsg: 'server error' } };
    expect(await changesOf(session(), trackedBtcLong())).toMatchObject({
      status: 'unknown',
      searchedFrom: T0,
      failure: { reason: 'exchange-error', exchangeCode: 10016 },
    });
  });
});

describe('fetchProtectiveOrders', () => {
  it('lists all order kinds for the symbol (no orderFilter) and keeps the position index protective ones', async () => {
    stub.handler = (req) =>
      req.query.get('cursor') === null
        ? v5(
            list(
              [
                rawOrder({ orderId: 'sl-0' }),
                rawOrder({ orderId: 'tp-1', positionIdx: 1, stopOrderType: 'TakeProfit' }),
                rawOrder({
                  orderId: 'entry',
                  stopOrderType: '',
                  reduceOnly: false,
                  closeOnTrigger: false,
                  orderStatus: 'New',
                }),
                // A full page (50) leads on to the next one.
                ...Array.from({ length: 47 }, (_, i) =>
                  rawOrder({ orderId: `other-${i}`, symbol: 'ETHUSDT' }),
                ),
              ],
              'o2',
            ),
          )
        : v5(list([rawOrder({ orderId: 'ro-0', stopOrderType: '', triggerPrice: '', orderStatus: 'New' })]));
    const orders = await protectiveOrdersOf(session(), 'BTCUSDT', 0);
    expect(orders).toEqual({
      status: 'known',
      orders: [
        {
          orderId: 'sl-0',
          symbol: 'BTCUSDT',
          positionIdx: 0,
          kind: 'stop-loss',
          triggerPrice: '62000',
          triggersOn: 'fall',
          createdAt: T0 - 30_000,
        },
        { orderId: 'ro-0', symbol: 'BTCUSDT', positionIdx: 0, kind: 'reduce-only', createdAt: T0 - 30_000 },
      ],
    });
    expect(stub.requests[0]?.path).toBe('/v5/order/realtime');
    expect(stub.requests[0]?.query.get('orderFilter')).toBeNull();
    expect(stub.requests[0]?.query.get('limit')).toBe('50');
  });

  it('a failure is unknown', async () => {
    stub.handler = () => v5({}, T0, { retCode: 10006, retMsg: 'Too many visits!' });
    expect(await protectiveOrdersOf(session(), 'BTCUSDT', 0)).toMatchObject({
      status: 'unknown',
      failure: { reason: 'rate-limited' },
    });
  });
});

describe('cancelOrder', () => {
  it('posts the cancel and reports it', async () => {
    stub.handler = () => v5({ orderId: 'sl-0', orderLinkId: '' });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toEqual({ status: 'cancelled', orderId: 'sl-0' });
    expect(stub.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v5/order/cancel',
      body: { category: 'linear', symbol: 'BTCUSDT', orderId: 'sl-0' },
    });
  });

  it.each([110001, 110008, 110010])('retCode %i is already-gone', async (code) => {
    stub.handler = () => v5({}, T0, { retCode: code, retMsg: 'order not exists or too late to cancel' });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toMatchObject({
      status: 'already-gone',
      orderId: 'sl-0',
    });
  });

  it('10006 is a retryable failure with retryAt; 10002 explains the clock; 10003 is not retryable', async () => {
    stub.handler = () => ({
      headers: limitHeaders(T0 + 12_000, 0),
      body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, time: T0 + 10_000 },
    });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toEqual({
      status: 'failed',
      orderId: 'sl-0',
      detail: expect.stringContaining('10006'),
      reason: 'rate-limited',
      exchangeCode: 10006,
      retryable: true,
      retryAt: T0 + 12_000,
    });
    stub.handler = () =>
      v5({}, T0, { retCode: 10002, retMsg: 'invalid request, please check your server timestamp' });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toMatchObject({
      status: 'failed',
      exchangeCode: 10002,
      detail: expect.stringMatching(/clock|NTP/),
    });
    stub.handler = () => v5({}, T0, { retCode: 10003, retMsg: 'API key is invalid.' });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toMatchObject({
      status: 'failed',
      retryable: false,
    });
  });

  it('5xx and timeouts are retryable failures', async () => {
    stub.handler = () => ({ status: 503, body: 'unavailable' });
    expect(await session().cancelOrder('BTCUSDT', 'sl-0')).toMatchObject({
      status: 'failed',
      retryable: true,
    });
    stub.handler = () => ({ ...v5({ orderId: 'sl-0' }), delayMs: 1_000 });
    expect(await session({ requestTimeoutMs: 150 }).cancelOrder('BTCUSDT', 'sl-0')).toMatchObject({
      status: 'failed',
      retryable: true,
      detail: expect.stringMatching(/no response in time/),
    });
  });
});

describe('an address ban (HTTP 403, "access too frequent")', () => {
  it('every method answers ip-banned until ten minutes on, never rate-limited or empty', async () => {
    stub.handler = () => ({
      status: 403,
      headers: { 'content-type': 'text/plain' },
      body: 'access too frequent',
    });
    const s = session();
    const banned = { reason: 'ip-banned', retryAt: T0 + 10_000 + 600_000 };
    expect(await s.fetchOpenPositions()).toMatchObject({ status: 'unknown', failure: banned });
    expect(await recheckPosition(s, 'BTCUSDT', 0)).toMatchObject({ status: 'unknown', failure: banned });
    expect(await changesOf(s, trackedBtcLong())).toMatchObject({ status: 'unknown', failure: banned });
    expect(await protectiveOrdersOf(s, 'BTCUSDT', 0)).toMatchObject({ status: 'unknown', failure: banned });
    expect(await s.cancelOrder('BTCUSDT', 'sl-1')).toMatchObject({ status: 'failed', ...banned });
  });
});
