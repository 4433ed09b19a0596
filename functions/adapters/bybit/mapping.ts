import Big from 'big.js';
import type { ObservedPosition, PositionIdx, ProtectiveOrder, ProtectiveOrderKind } from '#core/types.js';
import type { BybitOrder, BybitPosition } from './schemas.js';

/**
 * Pure translations between Bybit V5 records and the domain model: no I/O, no clock. What a fill did
 * to a position is attribution.ts.
 */

/** `stopOrderType` values of stop-losses and take-profits (docs/v5/enum.mdx#stopordertype). */
export const STOP_LOSS_TYPES: ReadonlySet<string> = new Set(['StopLoss', 'PartialStopLoss']);
export const TAKE_PROFIT_TYPES: ReadonlySet<string> = new Set(['TakeProfit', 'PartialTakeProfit']);

/** A listed position as the domain sees it; `undefined` for Bybit's size-0 placeholder entries. */
export function toObservedPosition(p: BybitPosition): ObservedPosition | undefined {
  if (!new Big(p.size).gt(0)) return undefined;
  // The schema guarantees an open entry has a Buy/Sell side and an ms updatedTime.
  const side = p.side === 'Sell' ? 'short' : 'long';
  const base = {
    symbol: p.symbol,
    positionIdx: p.positionIdx,
    side,
    size: p.size,
    updatedAt: Number(p.updatedTime),
  } as const;
  const protection = {
    ...priceField('stopLoss', p.stopLoss),
    ...priceField('trailingStop', p.trailingStop),
    ...priceField('markPrice', p.markPrice),
    ...priceField('entryPrice', p.avgPrice),
  };
  const withProtection = { ...base, protection };
  // seq is -1 for a symbol never traded: no sequence to compare against.
  return p.seq === undefined || p.seq < 0 ? withProtection : { ...withProtection, sequence: p.seq };
}

/** A price field as set (a decimal above 0), or nothing: Bybit writes "", "0" or omits an unset one. */
function priceField<K extends string>(name: K, value: string | undefined): { [P in K]?: string } {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value) || !new Big(value).gt(0)) return {};
  return { [name]: value } as { [P in K]?: string };
}

/** Conditional order types that only ever close (docs/v5/enum.mdx#stopordertype). */
const CLOSING_STOP_ORDER_TYPES: ReadonlySet<string> = new Set([
  'StopLoss',
  'PartialStopLoss',
  'TakeProfit',
  'PartialTakeProfit',
  'TrailingStop',
  'tpslOrder',
  'OcoOrder',
  'BidirectionalTpslOrder',
]);

/** Statuses of orders no longer resting (docs/v5/enum.mdx#orderstatus). */
const FINISHED_STATUSES: ReadonlySet<string> = new Set([
  'Filled',
  'Cancelled',
  'Rejected',
  'Deactivated',
  'PartiallyFilledCanceled',
]);

/**
 * The protective kind of a resting order, or `undefined` for an entry order. Protective means it
 * can only reduce a position: reduce-only, close-on-trigger, or a TP/SL/trailing type. An entry
 * order (a plain limit or an opening conditional) is never ours to cancel.
 */
export function protectiveKindOf(
  order: Pick<BybitOrder, 'reduceOnly' | 'closeOnTrigger' | 'stopOrderType'>,
): ProtectiveOrderKind | undefined {
  if (STOP_LOSS_TYPES.has(order.stopOrderType)) return 'stop-loss';
  if (TAKE_PROFIT_TYPES.has(order.stopOrderType)) return 'take-profit';
  if (order.stopOrderType === 'TrailingStop') return 'trailing-stop';
  if (order.reduceOnly || order.closeOnTrigger || CLOSING_STOP_ORDER_TYPES.has(order.stopOrderType)) {
    return 'reduce-only';
  }
  return undefined;
}

/** A resting order as a protective order of the given position, or `undefined` when it is not one. */
export function toProtectiveOrder(order: BybitOrder, positionIdx: PositionIdx): ProtectiveOrder | undefined {
  if (order.positionIdx !== positionIdx || FINISHED_STATUSES.has(order.orderStatus)) return undefined;
  const kind = protectiveKindOf(order);
  if (kind === undefined) return undefined;
  const hasTrigger = order.triggerPrice !== '' && new Big(order.triggerPrice).gt(0);
  // A size of "0" (position-level TP/SL) or none closes whatever the position's size is.
  const sized = order.qty !== undefined && order.qty !== '' && new Big(order.qty).gt(0);
  const direction = order.triggerDirection === 1 ? 'rise' : order.triggerDirection === 2 ? 'fall' : undefined;
  return {
    orderId: order.orderId,
    symbol: order.symbol,
    positionIdx: order.positionIdx,
    kind,
    ...(hasTrigger ? { triggerPrice: order.triggerPrice } : {}),
    ...(sized && order.qty !== undefined ? { qty: order.qty } : {}),
    ...(hasTrigger && direction !== undefined ? { triggersOn: direction } : {}),
    createdAt: order.createdTime,
  };
}

/** Bybit's history endpoints answer at most 7 days per query (`endTime - startTime <= 7 days`). */
export const HISTORY_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
/** How far back `/v5/execution/list` keeps fills ("Get Trade History (2 years)"). */
export const HISTORY_RETENTION_MS = 2 * 365 * 24 * 60 * 60 * 1000;

export interface HistoryWindow {
  readonly startTime: number;
  /** Absent on the last window: Bybit then answers `[startTime, startTime + 7 days]`, up to its own now. */
  readonly endTime?: number;
}

/**
 * The 7-day query windows covering `from` up to now. The last one leaves `endTime` to the exchange
 * so that a fill stamped by a clock slightly ahead of ours is not cut off; `marginMs` keeps that
 * open-ended window from ending before the exchange's now.
 */
export function historyWindows(from: number, now: number, marginMs = 60_000): HistoryWindow[] {
  const windows: HistoryWindow[] = [];
  let start = from;
  while (start + HISTORY_WINDOW_MS <= now + marginMs) {
    windows.push({ startTime: start, endTime: start + HISTORY_WINDOW_MS });
    start += HISTORY_WINDOW_MS;
  }
  windows.push({ startTime: start });
  return windows;
}
