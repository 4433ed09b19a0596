/**
 * Trading on the simulator through the real bybit-api SDK: triggers, fills, cancels and hedge mode,
 * and the ground truth (orphans, false cancels) they leave.
 */

import { describe, expect, it } from 'vitest';
import { client, HEDGE, simulatorPerTest, T0 } from './simulator-sdk.js';

const start = simulatorPerTest();

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
