/**
 * The simulator's protocol through the real bybit-api SDK: authentication, paging, history windows,
 * rate limits and the admin API. If the SDK can talk to it, an adapter built on the SDK will see
 * Bybit's shapes, error codes and pagination.
 */

import { RestClientV5 } from 'bybit-api';
import { describe, expect, it } from 'vitest';
import { createVirtualClock, noFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import { client, HEDGE, ONE_WAY, simulatorPerTest, T0 } from './simulator-sdk.js';

const start = simulatorPerTest();

describe('authentication', () => {
  it('answers 10003 for an unknown key and 10004 for a bad signature, and counts both', async () => {
    const { sim } = await start();
    const unknown = await client(sim, { apiKey: 'nobody', apiSecret: 'x' }).getPositionInfo({
      category: 'linear',
      settleCoin: 'USDT',
    });
    expect(unknown).toMatchObject({ retCode: 10003, retMsg: 'API key is invalid.' });
    const badSign = await client(sim, { apiKey: ONE_WAY.apiKey, apiSecret: 'wrong' }).getPositionInfo({
      category: 'linear',
      settleCoin: 'USDT',
    });
    expect(badSign.retCode).toBe(10004);
    expect(badSign.retMsg).not.toContain('sim-secret-1');
    expect(badSign.rateLimitApi).toMatchObject({ maxRequests: 50, remainingRequests: 50 });
    const good = await client(sim).getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(good.retCode).toBe(0);
    expect(sim.admin.groundTruth().requestCounts).toEqual({
      '(unknown key)': { '/v5/position/list': 1 },
      'acct-1': { '/v5/position/list': 2 },
    });
  });

  it('verifies POST bodies byte for byte (a signed cancel goes through)', async () => {
    const { sim } = await start();
    sim.admin.setPrice('BTCUSDT', '100');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const tp = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'BTCUSDT',
      kind: 'take-profit',
      triggerPrice: '150',
    });
    const res = await client(sim).cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: tp });
    expect(res).toMatchObject({ retCode: 0, result: { orderId: tp } });
    expect(sim.admin.openOrders('acct-1')).toEqual([]);
  });

  it('answers 10002 when the timestamp is outside the recv window of the simulator clock', async () => {
    const { sim } = await start({ authClock: () => Date.now() + 60_000 });
    const res = await client(sim).getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(res.retCode).toBe(10002);
  });

  it('works on a virtual clock without authClock when the SDK syncs time from /v5/market/time', async () => {
    const clock = createVirtualClock(T0);
    const sim = await startBybitSimulator({ clock: clock.now, accounts: [ONE_WAY], faults: noFaults });
    try {
      const synced = new RestClientV5({
        baseUrl: sim.url,
        key: ONE_WAY.apiKey,
        secret: ONE_WAY.apiSecret,
        syncTimeBeforePrivateRequests: true,
      });
      const res = await synced.getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
      expect(res).toMatchObject({ retCode: 0, time: T0 });
    } finally {
      await sim.close();
    }
  });
});

describe('position list', () => {
  it('pages through 7 positions 3 at a time with opaque cursors, a cursor on the short last page too', async () => {
    const { sim } = await start();
    const symbols = ['AAVEUSDT', 'ADAUSDT', 'BTCUSDT', 'DOGEUSDT', 'ETHUSDT', 'LINKUSDT', 'SOLUSDT'];
    for (const symbol of symbols) {
      sim.admin.openPosition({ accountId: 'acct-1', symbol, side: 'Buy', qty: '1', price: '10' });
    }
    const api = client(sim);
    const pages: string[][] = [];
    const cursors: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.getPositionInfo({
        category: 'linear',
        settleCoin: 'USDT',
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      expect(res.retCode).toBe(0);
      pages.push(res.result.list.map((p) => p.symbol));
      cursor = res.result.nextPageCursor;
      cursors.push(cursor ?? '');
    } while (cursor);
    // Like Bybit, the short last page still carries a cursor; following it gives an empty page and "".
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1, 0]);
    expect(pages.flat()).toEqual(symbols);
    expect(cursors.at(-1)).toBe('');
    expect(cursors.slice(0, -1).every((c) => c.length > 0 && !symbols.some((s) => c.includes(s)))).toBe(true);
  });

  it('requires symbol or settleCoin and keeps limit within [1, 200]', async () => {
    const { sim } = await start();
    const api = client(sim);
    expect((await api.getPositionInfo({ category: 'linear' })).retCode).toBe(10001);
    expect((await api.getPositionInfo({ category: 'linear', settleCoin: 'USDT', limit: 201 })).retCode).toBe(
      10001,
    );
  });

  it('a symbol query answers flat entries: one in one-way mode, both legs in hedge mode', async () => {
    const { sim } = await start();
    const oneWay = await client(sim).getPositionInfo({ category: 'linear', symbol: 'XRPUSDT' });
    expect(oneWay.result.list).toMatchObject([
      { symbol: 'XRPUSDT', positionIdx: 0, side: '', size: '0', seq: -1 },
    ]);
    const hedge = await client(sim, HEDGE).getPositionInfo({ category: 'linear', symbol: 'XRPUSDT' });
    expect(hedge.result.list.map((p) => [p.positionIdx, p.side, p.size])).toEqual([
      [1, '', '0'],
      [2, '', '0'],
    ]);
    const bulk = await client(sim).getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(bulk.result.list).toEqual([]);
  });

  it('reports seq, times and the Full TP/SL of a position', async () => {
    const { sim, clock } = await start();
    sim.admin.setPrice('BTCUSDT', '100');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'BTCUSDT', side: 'Sell', qty: '2' });
    clock.advance(500);
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'BTCUSDT', side: 'Sell', qty: '1', price: '103' });
    sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '110',
    });
    sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'BTCUSDT',
      kind: 'trailing-stop',
      triggerPrice: '104.5',
    });
    const res = await client(sim).getPositionInfo({ category: 'linear', symbol: 'BTCUSDT' });
    expect(res.result.list[0]).toMatchObject({
      side: 'Sell',
      size: '3',
      avgPrice: '101',
      seq: 2,
      createdTime: String(T0),
      updatedTime: String(T0 + 500),
      stopLoss: '110',
      takeProfit: '',
      trailingStop: '4.5',
    });
  });
});

describe('history endpoints', () => {
  it('enforce the 7-day window and its defaults', async () => {
    const { sim, clock } = await start();
    sim.admin.setPrice('BTCUSDT', '100');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    clock.advance(8 * 24 * 3_600_000);
    const api = client(sim);
    const day = 24 * 3_600_000;
    const tooWide = await api.getExecutionList({
      category: 'linear',
      startTime: T0,
      endTime: T0 + 7 * day + 1,
    });
    expect(tooWide.retCode).toBe(10001);
    const reversed = await api.getClosedPnL({ category: 'linear', startTime: T0 + day, endTime: T0 });
    expect(reversed.retCode).toBe(10001);
    expect((await api.getExecutionList({ category: 'linear', limit: 101 })).retCode).toBe(10001);
    // By default only the last 7 days: the fill 8 days ago is out of reach without startTime.
    expect((await api.getExecutionList({ category: 'linear' })).result.list).toEqual([]);
    const anchored = await api.getExecutionList({ category: 'linear', startTime: T0 });
    expect(anchored.result.list).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('sends the limit headers the SDK parses, and answers 10006 past the per-second limit', async () => {
    const { sim, clock } = await start({ rateLimitPerSecond: 3 });
    const api = client(sim);
    const call = () => api.getActiveOrders({ category: 'linear', settleCoin: 'USDT' });
    const first = await call();
    expect(first.rateLimitApi).toEqual({ maxRequests: 3, remainingRequests: 2, resetAtTimestamp: T0 });
    await call();
    await call();
    const limited = await call();
    expect(limited).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    expect(limited.rateLimitApi).toEqual({
      maxRequests: 3,
      remainingRequests: 0,
      resetAtTimestamp: T0 + 1000,
    });
    clock.advance(1000);
    expect((await call()).retCode).toBe(0);
  });
});

describe('admin over HTTP', () => {
  it('mirrors the admin API and reports ground truth', async () => {
    const { sim } = await start();
    const post = async (method: string, body: unknown) => {
      const res = await fetch(`${sim.url}/admin/${method}`, { method: 'POST', body: JSON.stringify(body) });
      return {
        status: res.status,
        json: (await res.json()) as { ok: boolean; result?: unknown; error?: string },
      };
    };
    expect((await post('setPrice', { symbol: 'BTCUSDT', price: '100' })).json.ok).toBe(true);
    await post('openPosition', { accountId: 'acct-1', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const placed = await post('placeProtectiveOrder', {
      accountId: 'acct-1',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    const orderId = (placed.json.result as { orderId: string }).orderId;
    await post('setFaults', { dropPositions: { probability: 1 } });
    expect(sim.admin.faults().dropPositions).toEqual({ probability: 1, maxDropped: 1 });
    expect((await post('openOrders', { accountId: 'acct-1' })).json.result).toMatchObject([{ orderId }]);
    expect(await post('setFaults', { dropPosition: { probability: 1 } })).toMatchObject({ status: 400 });
    expect(await post('closePosition', { accountId: 'acct-1', symbol: 'ETHUSDT' })).toMatchObject({
      status: 400,
    });
    await post('closePosition', { accountId: 'acct-1', symbol: 'BTCUSDT' });
    const truth = (await (await fetch(`${sim.url}/admin/ground-truth`)).json()) as {
      result: { waitingOrphans: { orderId: string }[] };
    };
    expect(truth.result.waitingOrphans.map((o) => o.orderId)).toEqual([orderId]);
  });
});
