import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '#local/bybit-simulator/clock.js';
import { SimExchange } from '#local/bybit-simulator/exchange.js';
import { FaultInjector, noFaults } from '#local/bybit-simulator/faults.js';
import { paginate } from '#local/bybit-simulator/pagination.js';

const T0 = 1_767_225_600_000;

function oneWayWorld() {
  const clock = createVirtualClock(T0);
  const world = new SimExchange(clock.now);
  world.addAccount({ id: 'a', apiKey: 'k', apiSecret: 's' });
  world.setPrice('BTCUSDT', '100');
  return { world, clock };
}

describe('SimExchange: positions and fills', () => {
  it('adds to a position at a weighted average price and bumps seq on every fill', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '3', price: '120' });
    const [position] = world.openPositions('a');
    expect(position).toMatchObject({ side: 'Buy', size: '4', avgPrice: '115', seq: 2 });
    expect(world.executions('a').map((e) => e.seq)).toEqual([1, 2]);
  });

  it('an SL trigger closes the position, writes execution, closed PnL and history, and orphans the TP', () => {
    const { world, clock } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '0.3' });
    const sl = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    const tp = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'take-profit',
      triggerPrice: '120',
    });
    clock.advance(1000);
    world.setPrice('BTCUSDT', '95');
    expect(world.openPositions('a')).toHaveLength(1);
    clock.advance(1000);
    world.setPrice('BTCUSDT', '89.5');

    expect(world.openPositions('a')).toEqual([]);
    const close = world.executions('a').at(-1);
    expect(close).toMatchObject({
      orderId: sl,
      execQty: '0.3',
      closedSize: '0.3',
      stopOrderType: 'StopLoss',
    });
    expect(close?.execTime).toBe(T0 + 2000);
    expect(world.closedPnl('a')).toMatchObject([{ orderId: sl, closedSize: '0.3', avgExitPrice: '89.5' }]);
    expect(world.orders('a').find((o) => o.orderId === sl)?.orderStatus).toBe('Filled');
    expect(world.openOrders('a').map((o) => o.orderId)).toEqual([tp]);
    expect(world.orphans()).toEqual([
      {
        accountId: 'a',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        orderId: tp,
        kind: 'take-profit',
        orphanedAt: T0 + 2000,
      },
    ]);
  });

  it('a partial TP reduces the position and leaves the SL protecting the rest (no orphan)', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Sell', qty: '1' });
    world.placeProtectiveOrder({ accountId: 'a', symbol: 'BTCUSDT', kind: 'stop-loss', triggerPrice: '110' });
    const tp = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'take-profit',
      triggerPrice: '90',
      qty: '0.4',
    });
    world.setPrice('BTCUSDT', '90');
    expect(world.openPositions('a')).toMatchObject([{ side: 'Sell', size: '0.6' }]);
    expect(world.executions('a').at(-1)).toMatchObject({
      orderId: tp,
      closedSize: '0.4',
      stopOrderType: 'PartialTakeProfit',
    });
    // A Full-mode SL follows the position's size.
    expect(world.openOrders('a')).toMatchObject([{ stopOrderType: 'StopLoss', qty: '0.6' }]);
    expect(world.orphans()).toEqual([]);
  });

  it('liquidation and ADL close with BustTrade and AdlTrade executions', () => {
    const { world } = oneWayWorld();
    world.setPrice('ETHUSDT', '10');
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '2' });
    world.openPosition({ accountId: 'a', symbol: 'ETHUSDT', side: 'Sell', qty: '5' });
    world.closePosition({ accountId: 'a', symbol: 'BTCUSDT', how: 'liquidation' });
    world.closePosition({ accountId: 'a', symbol: 'ETHUSDT', how: 'adl', qty: '2' });
    const closes = world.executions('a').filter((e) => e.closedSize !== '0');
    expect(closes.map((e) => [e.symbol, e.execType, e.closedSize, e.createType])).toEqual([
      ['BTCUSDT', 'BustTrade', '2', 'CreateByTakeOver_PassThrough'],
      ['ETHUSDT', 'AdlTrade', '2', 'CreateByAdl_PassThrough'],
    ]);
    expect(world.openPositions('a')).toMatchObject([{ symbol: 'ETHUSDT', size: '3' }]);
    expect(world.closedPnl('a').map((c) => c.execType)).toEqual(['BustTrade', 'AdlTrade']);
  });

  it('in one-way mode an opposite order closes the position and opens the remainder the other way', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Sell', qty: '1.5', price: '110' });
    expect(world.openPositions('a')).toMatchObject([{ side: 'Sell', size: '0.5', avgPrice: '110' }]);
    expect(world.executions('a').at(-1)).toMatchObject({ execQty: '1.5', closedSize: '1' });
  });

  it('a reopened position ends the orphan, and a later cancel of that order is a false cancel', () => {
    const { world, clock } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const sl = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '80',
    });
    world.closePosition({ accountId: 'a', symbol: 'BTCUSDT' });
    expect(world.orphans()).toMatchObject([{ orderId: sl, orphanedAt: T0 }]);
    clock.advance(5000);
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '2' });
    expect(world.orphans()).toMatchObject([{ orderId: sl, endedAt: T0 + 5000, end: 'position-reopened' }]);
    expect(world.cancelOrder('a', 'BTCUSDT', sl).status).toBe('cancelled');
    expect(world.falseCancels()).toMatchObject([{ orderId: sl, positionSize: '2', at: T0 + 5000 }]);
  });

  it('cancelling an orphan records the cleanup delay; a second cancel is refused', () => {
    const { world, clock } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const tp = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'take-profit',
      triggerPrice: '130',
    });
    world.closePosition({ accountId: 'a', symbol: 'BTCUSDT' });
    clock.advance(42_000);
    expect(world.cancelOrder('a', 'BTCUSDT', tp).status).toBe('cancelled');
    expect(world.orphans()).toMatchObject([
      { orderId: tp, orphanedAt: T0, cleanedAt: T0 + 42_000, end: 'cancelled' },
    ]);
    expect(world.falseCancels()).toEqual([]);
    expect(world.cancelOrder('a', 'BTCUSDT', tp).status).toBe('not-resting');
    expect(world.cancelOrder('a', 'BTCUSDT', 'nope').status).toBe('not-found');
    expect(world.cancelOrder('a', 'ETHUSDT', tp).status).toBe('not-found');
  });

  it('an orphan that fires with no position is cancelled by the exchange (reduce-only)', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const sl = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    world.closePosition({ accountId: 'a', symbol: 'BTCUSDT' });
    world.setPrice('BTCUSDT', '85');
    expect(world.orders('a').find((o) => o.orderId === sl)).toMatchObject({
      orderStatus: 'Deactivated',
      cancelType: 'CancelByReduceOnly',
    });
    expect(world.orphans()).toMatchObject([{ orderId: sl, end: 'exchange-cancelled' }]);
    expect(world.orphans()[0]?.cleanedAt).toBeUndefined();
  });

  it('a trailing stop follows the price up and fires on the way back down', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const ts = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'trailing-stop',
      triggerPrice: '95',
    });
    world.setPrice('BTCUSDT', '120');
    expect(world.openOrders('a')[0]?.triggerPrice).toBe('115');
    world.setPrice('BTCUSDT', '116');
    expect(world.openPositions('a')).toHaveLength(1);
    world.setPrice('BTCUSDT', '114.9');
    expect(world.openPositions('a')).toEqual([]);
    expect(world.executions('a').at(-1)).toMatchObject({ orderId: ts, stopOrderType: 'TrailingStop' });
  });

  it('a reduce-only limit fills as maker when the price reaches it', () => {
    const { world } = oneWayWorld();
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    const limit = world.placeProtectiveOrder({
      accountId: 'a',
      symbol: 'BTCUSDT',
      kind: 'reduce-only-limit',
      triggerPrice: '105',
    });
    expect(world.openOrders('a')).toMatchObject([{ orderId: limit, orderStatus: 'New', orderType: 'Limit' }]);
    world.setPrice('BTCUSDT', '106');
    expect(world.executions('a').at(-1)).toMatchObject({ orderId: limit, execPrice: '105', isMaker: true });
    expect(world.openPositions('a')).toEqual([]);
  });

  it('refuses protective orders the market has already crossed, and orders without a position', () => {
    const { world } = oneWayWorld();
    expect(() =>
      world.placeProtectiveOrder({
        accountId: 'a',
        symbol: 'BTCUSDT',
        kind: 'stop-loss',
        triggerPrice: '90',
      }),
    ).toThrow(/no open position/);
    world.openPosition({ accountId: 'a', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    expect(() =>
      world.placeProtectiveOrder({
        accountId: 'a',
        symbol: 'BTCUSDT',
        kind: 'stop-loss',
        triggerPrice: '101',
      }),
    ).toThrow(/already crossed/);
  });

  it('hedge mode keeps both legs of a symbol apart', () => {
    const world = new SimExchange(() => T0);
    world.addAccount({ id: 'h', apiKey: 'hk', apiSecret: 'hs', positionMode: 'hedge' });
    world.setPrice('BTCUSDT', '100');
    world.openPosition({ accountId: 'h', symbol: 'BTCUSDT', side: 'Buy', qty: '1' });
    world.openPosition({ accountId: 'h', symbol: 'BTCUSDT', side: 'Sell', qty: '2' });
    expect(world.openPositions('h').map((p) => [p.positionIdx, p.side, p.size])).toEqual([
      [1, 'Buy', '1'],
      [2, 'Sell', '2'],
    ]);
    expect(() => world.closePosition({ accountId: 'h', symbol: 'BTCUSDT' })).toThrow(/say which leg/);
    world.closePosition({ accountId: 'h', symbol: 'BTCUSDT', positionIdx: 2 });
    expect(world.positionsForSymbol('h', 'BTCUSDT').map((p) => [p.positionIdx, p.side, p.size])).toEqual([
      [1, 'Buy', '1'],
      [2, '', '0'],
    ]);
  });
});

describe('FaultInjector', () => {
  it('the same seed draws the same faults; another seed draws others', () => {
    const config = { ...noFaults, stale: { probability: 0.5 }, serverError: { probability: 0.5 } };
    const run = (seed: number) => {
      const faults = new FaultInjector(seed, config);
      return Array.from({ length: 64 }, () => faults.draw('a', '/v5/position/list'));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it("one account's faults do not depend on another account's traffic", () => {
    const config = { ...noFaults, stale: { probability: 0.5 } };
    const quiet = new FaultInjector(3, config);
    const busy = new FaultInjector(3, config);
    const quietDraws = Array.from({ length: 20 }, () => quiet.draw('a', '/v5/position/list').stale);
    const busyDraws = Array.from({ length: 20 }, () => {
      busy.draw('b', '/v5/position/list');
      return busy.draw('a', '/v5/position/list').stale;
    });
    expect(busyDraws).toEqual(quietDraws);
  });

  it('drops between 1 and maxDropped positions and only targeted endpoints misbehave', () => {
    const faults = new FaultInjector(1, {
      dropPositions: { probability: 1, maxDropped: 2 },
      serverError: { probability: 1, endpoints: ['/v5/order/cancel'] },
    });
    const sizes = new Set<number>();
    for (let i = 0; i < 50; i++) sizes.add(faults.positionsToDrop('a', ['x', 'y', 'z'], T0).size);
    expect([...sizes].sort()).toEqual([1, 2]);
    expect(faults.draw('a', '/v5/position/list').serverError).toBeUndefined();
    expect(faults.draw('a', '/v5/order/cancel').serverError).toBeDefined();
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => new FaultInjector(1, { stale: { probability: 1.5 } })).toThrow(/stale/);
  });
});

describe('keyset pagination', () => {
  it('resumes after the last key even when an earlier item disappeared between pages', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    const first = paginate(items, (x) => x, 2, undefined);
    expect(first.items).toEqual(['a', 'b']);
    const second = paginate(['a', 'c', 'd', 'e'], (x) => x, 2, first.lastKey);
    expect(second.items).toEqual(['c', 'd']);
    const last = paginate(items, (x) => x, 2, 'd');
    expect(last.items).toEqual(['e']);
    // Bybit's shape: the last page carries a cursor too, which leads to an empty page with "".
    expect(last.nextPageCursor).not.toBe('');
    expect(paginate(items, (x) => x, 2, last.lastKey)).toMatchObject({ items: [], nextPageCursor: '' });
  });
});
