/**
 * The private V5 endpoints as functions from request parameters to `result`, over the exchange and the
 * fault injector: parameter rules and error codes as Bybit documents them, no HTTP.
 */

import type { SimExchange } from './exchange.js';
import type { FaultInjector, PrivateEndpoint } from './faults.js';
import { decodeCursor, newestFirstKey, paginate } from './pagination.js';
import { SimRejection } from './rejection.js';
import { type ApiOrderInput, type PositionIdx, RESTING_STATUSES, type Side } from './types.js';
import { toWireClosedPnl, toWireExecution, toWireOrder, toWirePosition } from './wire.js';

export interface EndpointContext {
  readonly exchange: SimExchange;
  readonly faults: FaultInjector;
  readonly accountId: string;
  readonly now: number;
  /** Records that happened after this time are not visible yet (history lag). */
  readonly historyVisibleUntil: number;
  /** A truncated-pagination fault hit this request. */
  readonly truncate: boolean;
}

export type Params = Readonly<Record<string, unknown>>;
export type Handler = (ctx: EndpointContext, params: Params) => unknown;

const SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;

export const ORDER_NOT_EXISTS = 'order not exists or too late to cancel';

export const handlers: Readonly<Record<PrivateEndpoint, Handler>> = {
  '/v5/position/list': positionList,
  '/v5/execution/list': executionList,
  '/v5/position/closed-pnl': closedPnlList,
  '/v5/order/history': orderHistory,
  '/v5/order/realtime': openOrders,
  '/v5/order/cancel': cancelOrder,
  '/v5/order/create': createOrder,
};

function positionList(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const symbol = text(params, 'symbol');
  const settleCoin = text(params, 'settleCoin');
  if (symbol === undefined && settleCoin === undefined) {
    throw new SimRejection(10001, 'params error: symbol or settleCoin is required for linear');
  }
  const limit = integer(params, 'limit', 20, 1, 200);
  const after = cursorKey(params);
  const keyOf = (p: { symbol: string; positionIdx: number }) => `${p.symbol}#${p.positionIdx}`;
  const candidates =
    symbol !== undefined
      ? ctx.exchange
          .positionsForSymbol(ctx.accountId, symbol)
          .filter((p) => !ctx.faults.hiddenFromSymbolQuery(ctx.accountId, keyOf(p), ctx.now))
      : ctx.exchange.openPositions(ctx.accountId).filter((p) => settleCoinOf(p.symbol) === settleCoin);
  const page = paginate(candidates, keyOf, limit, after);
  if (ctx.truncate && after !== undefined) return { category: 'linear', list: [], nextPageCursor: '' };
  // The incident: only a bulk list (no symbol) drops, and it says nothing about it.
  const dropped =
    symbol === undefined
      ? ctx.faults.positionsToDrop(ctx.accountId, page.items.map(keyOf), ctx.now)
      : new Set();
  const orders = ctx.exchange.openOrders(ctx.accountId);
  const list = page.items
    .filter((p) => !dropped.has(keyOf(p)))
    .map((p) =>
      toWirePosition(
        p,
        ctx.exchange.price(p.symbol),
        orders.filter((o) => o.symbol === p.symbol && o.positionIdx === p.positionIdx),
      ),
    );
  return { category: 'linear', list, nextPageCursor: page.nextPageCursor };
}

function executionList(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const limit = integer(params, 'limit', 50, 1, 100);
  const after = cursorKey(params);
  const window = timeWindow(params, ctx.now);
  const orderId = text(params, 'orderId');
  const symbol = text(params, 'symbol');
  const execType = text(params, 'execType');
  const rows = ctx.exchange
    .executions(ctx.accountId)
    .filter((e) => e.execTime <= ctx.historyVisibleUntil)
    .filter((e) =>
      // Bybit: orderId outranks every other filter.
      orderId !== undefined
        ? e.orderId === orderId
        : inWindow(e.execTime, window) &&
          (symbol === undefined || e.symbol === symbol) &&
          (execType === undefined || e.execType === execType),
    );
  const page = paginate(rows, (e) => newestFirstKey(e.execTime, e.execId), limit, after);
  if (ctx.truncate && after !== undefined) return { category: 'linear', list: [], nextPageCursor: '' };
  const list = page.items.map((e) => toWireExecution(e, ctx.faults.blanksClosedSize(e.execId)));
  return { category: 'linear', list, nextPageCursor: page.nextPageCursor };
}

function closedPnlList(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const limit = integer(params, 'limit', 50, 1, 100);
  const after = cursorKey(params);
  const window = timeWindow(params, ctx.now);
  const symbol = text(params, 'symbol');
  const rows = ctx.exchange
    .closedPnl(ctx.accountId)
    .filter((c) => c.createdTime <= ctx.historyVisibleUntil && inWindow(c.createdTime, window))
    .filter((c) => symbol === undefined || c.symbol === symbol);
  const page = paginate(
    rows,
    (c) => newestFirstKey(c.createdTime, `${c.orderId}|${c.closedSize}`),
    limit,
    after,
  );
  if (ctx.truncate && after !== undefined) return { category: 'linear', list: [], nextPageCursor: '' };
  return { category: 'linear', list: page.items.map(toWireClosedPnl), nextPageCursor: page.nextPageCursor };
}

function orderHistory(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const limit = integer(params, 'limit', 20, 1, 50);
  const after = cursorKey(params);
  const window = timeWindow(params, ctx.now);
  const orderId = text(params, 'orderId');
  const symbol = text(params, 'symbol');
  const settleCoin = text(params, 'settleCoin');
  const orderStatus = text(params, 'orderStatus');
  const orderFilter = text(params, 'orderFilter');
  const rows = ctx.exchange
    .orders(ctx.accountId)
    .filter((o) => !RESTING_STATUSES.has(o.orderStatus) && o.updatedTime <= ctx.historyVisibleUntil)
    // Bybit keeps orders that ended without a fill in history for 24 hours only.
    .filter((o) => o.orderStatus === 'Filled' || o.updatedTime > ctx.now - ONE_DAY_MS)
    .filter((o) =>
      orderId !== undefined
        ? o.orderId === orderId
        : inWindow(o.updatedTime, window) &&
          (symbol === undefined || o.symbol === symbol) &&
          (settleCoin === undefined || settleCoinOf(o.symbol) === settleCoin) &&
          (orderStatus === undefined || o.orderStatus === orderStatus) &&
          matchesOrderFilter(o.triggerPrice, orderFilter),
    );
  const page = paginate(rows, (o) => newestFirstKey(o.updatedTime, o.orderId), limit, after);
  if (ctx.truncate && after !== undefined) return { category: 'linear', list: [], nextPageCursor: '' };
  return { category: 'linear', list: page.items.map(toWireOrder), nextPageCursor: page.nextPageCursor };
}

function openOrders(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const symbol = text(params, 'symbol');
  const settleCoin = text(params, 'settleCoin');
  const baseCoin = text(params, 'baseCoin');
  const orderId = text(params, 'orderId');
  if (symbol === undefined && settleCoin === undefined && baseCoin === undefined && orderId === undefined) {
    throw new SimRejection(10001, 'params error: symbol, baseCoin or settleCoin is required for linear');
  }
  const openOnly = integer(params, 'openOnly', 0, 0, 2);
  const orderFilter = text(params, 'orderFilter');
  const limit = integer(params, 'limit', 20, 1, 50);
  const after = cursorKey(params);
  const rows = ctx.exchange.orders(ctx.accountId).filter((o) => {
    if (orderId !== undefined) return o.orderId === orderId; // openOnly is ignored for an orderId query
    const statusMatches =
      openOnly === 0 ? RESTING_STATUSES.has(o.orderStatus) : !RESTING_STATUSES.has(o.orderStatus);
    return (
      statusMatches &&
      (symbol === undefined || o.symbol === symbol) &&
      (settleCoin === undefined || settleCoinOf(o.symbol) === settleCoin) &&
      (baseCoin === undefined || o.symbol.startsWith(baseCoin)) &&
      matchesOrderFilter(o.triggerPrice, orderFilter)
    );
  });
  const recent = openOnly === 0 ? rows : rows.sort((a, b) => b.updatedTime - a.updatedTime).slice(0, 500);
  const page = paginate(recent, (o) => newestFirstKey(o.createdTime, o.orderId), limit, after);
  if (ctx.truncate && after !== undefined) return { category: 'linear', list: [], nextPageCursor: '' };
  return { category: 'linear', list: page.items.map(toWireOrder), nextPageCursor: page.nextPageCursor };
}

function cancelOrder(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const symbol = text(params, 'symbol');
  if (symbol === undefined) throw new SimRejection(10001, 'params error: symbol is required');
  const orderId = text(params, 'orderId');
  if (orderId === undefined) {
    if (text(params, 'orderLinkId') !== undefined) throw new SimRejection(110001, ORDER_NOT_EXISTS);
    throw new SimRejection(10001, 'params error: orderId or orderLinkId is required');
  }
  const outcome = ctx.exchange.cancelOrder(ctx.accountId, symbol, orderId);
  if (outcome.status !== 'cancelled') throw new SimRejection(110001, ORDER_NOT_EXISTS);
  return { orderId, orderLinkId: '' };
}

function createOrder(ctx: EndpointContext, params: Params): unknown {
  linearOnly(params);
  const symbol = text(params, 'symbol');
  if (symbol === undefined) throw new SimRejection(10001, 'params error: symbol is required');
  const side = text(params, 'side');
  if (side !== 'Buy' && side !== 'Sell') throw new SimRejection(10001, 'params error: side invalid');
  const orderType = text(params, 'orderType');
  if (orderType !== 'Market' && orderType !== 'Limit')
    throw new SimRejection(10001, 'params error: orderType invalid');
  const qty = text(params, 'qty');
  if (qty === undefined) throw new SimRejection(10001, 'params error: qty is required');
  const positionIdx = params.positionIdx === undefined ? undefined : Number(params.positionIdx);
  if (positionIdx !== undefined && positionIdx !== 0 && positionIdx !== 1 && positionIdx !== 2) {
    throw new SimRejection(10001, 'params error: positionIdx invalid');
  }
  const price = text(params, 'price');
  const triggerPrice = text(params, 'triggerPrice');
  if (triggerPrice !== undefined)
    ctx.exchange.instruments.requireOnTick(symbol, 'triggerPrice', triggerPrice);
  const triggerDirection =
    params.triggerDirection === undefined ? undefined : Number(params.triggerDirection);
  const orderLinkId = text(params, 'orderLinkId');
  const input: ApiOrderInput = {
    symbol,
    side: side satisfies Side,
    orderType,
    qty,
    reduceOnly: params.reduceOnly === true || params.reduceOnly === 'true',
    closeOnTrigger: params.closeOnTrigger === true || params.closeOnTrigger === 'true',
    ...(price === undefined ? {} : { price }),
    ...(triggerPrice === undefined ? {} : { triggerPrice }),
    ...(triggerDirection === 1 || triggerDirection === 2 ? { triggerDirection } : {}),
    ...(positionIdx === undefined ? {} : { positionIdx: positionIdx as PositionIdx }),
    ...(orderLinkId === undefined ? {} : { orderLinkId }),
  };
  const orderId = ctx.exchange.placeApiOrder(ctx.accountId, input);
  return { orderId, orderLinkId: orderLinkId ?? '' };
}

/** USDC perpetuals end in USDC or PERP; everything else here settles in USDT. */
export function settleCoinOf(symbol: string): string {
  return symbol.endsWith('USDC') || symbol.endsWith('PERP') ? 'USDC' : 'USDT';
}

function matchesOrderFilter(triggerPrice: string, orderFilter: string | undefined): boolean {
  if (orderFilter === undefined) return true;
  if (orderFilter === 'StopOrder') return triggerPrice !== '';
  if (orderFilter === 'Order') return triggerPrice === '';
  return false;
}

function linearOnly(params: Params): void {
  const category = text(params, 'category');
  if (category === undefined) throw new SimRejection(10001, 'params error: category is required');
  if (category !== 'linear')
    throw new SimRejection(10001, `params error: category ${category} is not simulated`);
}

function text(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

function integer(params: Params, name: string, fallback: number, min: number, max: number): number {
  const raw = text(params, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SimRejection(10001, `params error: ${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function cursorKey(params: Params): string | undefined {
  const cursor = text(params, 'cursor');
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor);
  if (key === undefined) throw new SimRejection(10001, 'params error: cursor invalid');
  return key;
}

interface Window {
  readonly start: number;
  readonly end: number;
}

/** Bybit's history window: 7 days by default, anchored on whichever bound is given, never wider. */
function timeWindow(params: Params, now: number): Window {
  const start = timestamp(params, 'startTime');
  const end = timestamp(params, 'endTime');
  if (start === undefined && end === undefined) return { start: now - SEVEN_DAYS_MS, end: now };
  if (end === undefined) return { start: start ?? 0, end: (start ?? 0) + SEVEN_DAYS_MS };
  if (start === undefined) return { start: end - SEVEN_DAYS_MS, end };
  if (start > end) throw new SimRejection(10001, 'params error: startTime must be less than endTime');
  if (end - start > SEVEN_DAYS_MS) {
    throw new SimRejection(
      10001,
      'params error: The time range between startTime and endTime cannot exceed 7 days',
    );
  }
  return { start, end };
}

function timestamp(params: Params, name: string): number | undefined {
  const raw = text(params, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new SimRejection(10001, `params error: ${name} is not number`);
  return value;
}

function inWindow(time: number, window: Window): boolean {
  return time >= window.start && time <= window.end;
}
