import { RestClientV5 } from 'bybit-api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BybitSimulator,
  createVirtualClock,
  noFaults,
  type SimulatorOptions,
  startBybitSimulator,
} from '#local/bybit-simulator/index.js';

/**
 * The simulator through the real bybit-api SDK: if the SDK can talk to it, an adapter built on the SDK
 * will see Bybit's shapes, error codes and pagination.
 */

const T0 = 1_767_225_600_000;
const ONE_WAY = { id: 'acct-1', apiKey: 'sim-key-1', apiSecret: 'sim-secret-1' };
const HEDGE = {
  id: 'acct-h',
  apiKey: 'sim-key-h',
  apiSecret: 'sim-secret-h',
  positionMode: 'hedge' as const,
};

let sim: BybitSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** A simulator on a virtual clock; requests are stamped by the SDK with Date.now, hence `authClock`. */
async function start(options: SimulatorOptions = {}) {
  const clock = createVirtualClock(T0);
  sim = await startBybitSimulator({
    clock: clock.now,
    authClock: Date.now,
    accounts: [ONE_WAY, HEDGE],
    faults: noFaults,
    ...options,
  });
  return { sim, clock };
}

function client(s: BybitSimulator, account: { apiKey: string; apiSecret: string } = ONE_WAY) {
  return new RestClientV5({
    baseUrl: s.url,
    key: account.apiKey,
    secret: account.apiSecret,
    parseAPIRateLimits: true,
  });
}

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
    sim = await startBybitSimulator({ clock: clock.now, accounts: [ONE_WAY], faults: noFaults });
    const synced = new RestClientV5({
      baseUrl: sim.url,
      key: ONE_WAY.apiKey,
      secret: ONE_WAY.apiSecret,
      syncTimeBeforePrivateRequests: true,
    });
    const res = await synced.getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(res).toMatchObject({ retCode: 0, time: T0 });
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

describe('a stop-loss fires', () => {
  it('closes the position, writes execution, closed PnL and order history, and leaves the TP an orphan', async () => {
    const { sim, clock } = await start();
    sim.admin.setPrice('AAVEUSDT', '100');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'AAVEUSDT', side: 'Buy', qty: '3' });
    const sl = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'AAVEUSDT',
      kind: 'stop-loss',
      triggerPrice: '95',
    });
    const tp = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'AAVEUSDT',
      kind: 'take-profit',
      triggerPrice: '120',
    });
    const api = client(sim);
    const resting = await api.getActiveOrders({ category: 'linear', symbol: 'AAVEUSDT' });
    expect(resting.result.list.map((o) => [o.orderId, o.orderStatus, o.stopOrderType, o.reduceOnly])).toEqual(
      [
        [tp, 'Untriggered', 'TakeProfit', true],
        [sl, 'Untriggered', 'StopLoss', true],
      ],
    );

    clock.advance(60_000);
    sim.admin.setPrice('AAVEUSDT', '94');

    const positions = await api.getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(positions.result.list).toEqual([]);
    const executions = await api.getExecutionList({ category: 'linear', symbol: 'AAVEUSDT' });
    expect(executions.result.list[0]).toMatchObject({
      orderId: sl,
      side: 'Sell',
      execType: 'Trade',
      execQty: '3',
      closedSize: '3',
      stopOrderType: 'StopLoss',
      createType: 'CreateByStopLoss',
      execTime: String(T0 + 60_000),
      seq: 2,
    });
    const pnl = await api.getClosedPnL({ category: 'linear', symbol: 'AAVEUSDT' });
    expect(pnl.result.list).toHaveLength(1);
    expect(pnl.result.list[0]).toMatchObject({
      orderId: sl,
      closedSize: '3',
      avgEntryPrice: '100',
      avgExitPrice: '94',
    });
    const history = await api.getHistoricOrders({ category: 'linear', symbol: 'AAVEUSDT' });
    expect(history.result.list.find((o) => o.orderId === sl)).toMatchObject({
      orderStatus: 'Filled',
      stopOrderType: 'StopLoss',
      cumExecQty: '3',
    });
    const stillResting = await api.getActiveOrders({ category: 'linear', symbol: 'AAVEUSDT' });
    expect(stillResting.result.list.map((o) => o.orderId)).toEqual([tp]);

    expect(sim.admin.groundTruth().waitingOrphans).toEqual([
      {
        accountId: 'acct-1',
        symbol: 'AAVEUSDT',
        positionIdx: 0,
        orderId: tp,
        kind: 'take-profit',
        orphanedAt: T0 + 60_000,
      },
    ]);
    clock.advance(30_000);
    expect((await api.cancelOrder({ category: 'linear', symbol: 'AAVEUSDT', orderId: tp })).retCode).toBe(0);
    const truth = sim.admin.groundTruth();
    expect(truth.waitingOrphans).toEqual([]);
    expect(truth.orphans[0]?.cleanedAt).toBe(T0 + 90_000);
    expect(truth.falseCancels).toEqual([]);
  });
});

describe('cancels', () => {
  it("cancelling a live position's SL is recorded as a false cancel", async () => {
    const { sim, clock } = await start();
    sim.admin.setPrice('ETHUSDT', '3000');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'ETHUSDT', side: 'Buy', qty: '0.5' });
    const sl = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'ETHUSDT',
      kind: 'stop-loss',
      triggerPrice: '2800',
    });
    clock.advance(12 * 60_000);
    const res = await client(sim).cancelOrder({ category: 'linear', symbol: 'ETHUSDT', orderId: sl });
    expect(res.retCode).toBe(0);
    expect(sim.admin.groundTruth().falseCancels).toEqual([
      {
        accountId: 'acct-1',
        symbol: 'ETHUSDT',
        positionIdx: 0,
        orderId: sl,
        kind: 'stop-loss',
        positionSize: '0.5',
        at: T0 + 12 * 60_000,
      },
    ]);
  });

  it('answers 110001 for unknown, already cancelled and already filled orders', async () => {
    const { sim } = await start();
    sim.admin.setPrice('ETHUSDT', '3000');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'ETHUSDT', side: 'Buy', qty: '1' });
    const sl = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'ETHUSDT',
      kind: 'stop-loss',
      triggerPrice: '2900',
    });
    const tp = sim.admin.placeProtectiveOrder({
      accountId: 'acct-1',
      symbol: 'ETHUSDT',
      kind: 'take-profit',
      triggerPrice: '3100',
    });
    const api = client(sim);
    const cancel = (orderId: string) => api.cancelOrder({ category: 'linear', symbol: 'ETHUSDT', orderId });
    expect((await cancel('00000000-0000-0000-0000-000000000000')).retCode).toBe(110001);
    expect((await cancel(tp)).retCode).toBe(0);
    expect(await cancel(tp)).toMatchObject({
      retCode: 110001,
      retMsg: 'order not exists or too late to cancel',
    });
    sim.admin.setPrice('ETHUSDT', '2850');
    expect((await cancel(sl)).retCode).toBe(110001);
    const history = await api.getHistoricOrders({
      category: 'linear',
      symbol: 'ETHUSDT',
      orderFilter: 'StopOrder',
    });
    expect(history.result.list.map((o) => [o.orderId, o.orderStatus, o.cancelType])).toEqual(
      expect.arrayContaining([
        [tp, 'Deactivated', 'CancelByUser'],
        [sl, 'Filled', 'UNKNOWN'],
      ]),
    );
  });

  it('accepts a reduce-only conditional order through /v5/order/create', async () => {
    const { sim } = await start();
    sim.admin.setPrice('SOLUSDT', '150');
    sim.admin.openPosition({ accountId: 'acct-1', symbol: 'SOLUSDT', side: 'Sell', qty: '10' });
    const api = client(sim);
    const created = await api.submitOrder({
      category: 'linear',
      symbol: 'SOLUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '10',
      triggerPrice: '160',
      triggerDirection: 1,
      reduceOnly: true,
      closeOnTrigger: true,
    });
    expect(created.retCode).toBe(0);
    expect(sim.admin.openOrders('acct-1')).toMatchObject([
      { orderId: created.result.orderId, kind: 'stop-loss', stopOrderType: 'Stop', triggerPrice: '160' },
    ]);
    const nothingToReduce = await api.submitOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Limit',
      price: '1',
      qty: '1',
      reduceOnly: true,
    });
    expect(nothingToReduce.retCode).toBe(110017);
  });
});

describe('hedge mode', () => {
  it('lists both legs, closes one by its SL, orphans its TP and flags a cancel on the live leg', async () => {
    const { sim } = await start();
    sim.admin.setPrice('BTCUSDT', '100');
    sim.admin.openPosition({ accountId: 'acct-h', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    sim.admin.openPosition({ accountId: 'acct-h', symbol: 'BTCUSDT', side: 'Sell', qty: '2' });
    const longSl = sim.admin.placeProtectiveOrder({
      accountId: 'acct-h',
      symbol: 'BTCUSDT',
      positionIdx: 1,
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    const longTp = sim.admin.placeProtectiveOrder({
      accountId: 'acct-h',
      symbol: 'BTCUSDT',
      positionIdx: 1,
      kind: 'take-profit',
      triggerPrice: '130',
    });
    const shortSl = sim.admin.placeProtectiveOrder({
      accountId: 'acct-h',
      symbol: 'BTCUSDT',
      positionIdx: 2,
      kind: 'stop-loss',
      triggerPrice: '125',
    });
    const api = client(sim, HEDGE);
    const both = await api.getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
    expect(both.result.list.map((p) => [p.positionIdx, p.side, p.size])).toEqual([
      [1, 'Buy', '1'],
      [2, 'Sell', '2'],
    ]);

    sim.admin.setPrice('BTCUSDT', '89');
    const bySymbol = await api.getPositionInfo({ category: 'linear', symbol: 'BTCUSDT' });
    expect(bySymbol.result.list.map((p) => [p.positionIdx, p.side, p.size])).toEqual([
      [1, '', '0'],
      [2, 'Sell', '2'],
    ]);
    const fills = await api.getExecutionList({ category: 'linear', symbol: 'BTCUSDT' });
    expect(fills.result.list[0]).toMatchObject({ orderId: longSl, closedSize: '1', side: 'Sell' });
    expect(sim.admin.groundTruth().waitingOrphans.map((o) => [o.orderId, o.positionIdx])).toEqual([
      [longTp, 1],
    ]);

    await api.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: longTp });
    await api.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: shortSl });
    const truth = sim.admin.groundTruth();
    expect(truth.waitingOrphans).toEqual([]);
    expect(truth.falseCancels.map((f) => [f.orderId, f.positionIdx, f.positionSize])).toEqual([
      [shortSl, 2, '2'],
    ]);
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
