import Big from 'big.js';
import type {
  CloseKind,
  ObservedPosition,
  PositionChange,
  PositionIdx,
  ProtectiveOrder,
  ProtectiveOrderKind,
  TrackedPosition,
} from '#core/types.js';
import type { BybitExecution, BybitOrder, BybitPosition } from './schemas.js';

/**
 * Pure translations between Bybit V5 records and the domain model: no I/O, no clock.
 */

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
  // seq is -1 for a symbol never traded: no sequence to compare against.
  return p.seq === undefined || p.seq < 0 ? base : { ...base, sequence: p.seq };
}

/** What one fill did to one tracked position. */
export interface Attribution {
  readonly closedQty: string;
  readonly openedQty: string;
}

/**
 * Attributes a fill to a position, or `undefined` when it does not touch that position (another
 * symbol, the other hedge leg, funding or another qty-less record).
 *
 * Bybit's execution records carry no `positionIdx`; `closedSize` (the part of the fill that reduced
 * an existing position) is what tells the legs apart:
 * - One-way (idx 0): the fill first closes `closedSize` of whatever is open, the rest opens or adds.
 *   For a long, a Sell of 3 with closedSize 1 closes 1 and opens a short of 2 (a flip); a Buy adds.
 *   After a flip the same rule keeps counting the symbol's single position: a later Buy with
 *   closedSize 2 closes that short. The core then reads `size - closed + opened` as the size at this
 *   position index, whichever side it is on.
 * - Hedge (idx 1 long / 2 short): only the closing side's fills with closedSize > 0 reduce this leg;
 *   only the opening side's fills with closedSize 0 add to it. A Buy that closes something closed
 *   the short leg, a Sell that closes nothing opened the short leg: neither is the long's.
 */
export function attributeFill(
  fill: BybitExecution,
  position: Pick<TrackedPosition, 'symbol' | 'positionIdx'>,
): Attribution | undefined {
  if (fill.symbol !== position.symbol) return undefined;
  if (fill.execType === 'Funding' || fill.execQty === '') return undefined;
  const qty = new Big(fill.execQty);
  if (!qty.gt(0)) return undefined;
  const closedSize = new Big(fill.closedSize === '' ? '0' : fill.closedSize);
  const closed = closedSize.gt(qty) ? qty : closedSize;

  if (position.positionIdx === 0) {
    return { closedQty: closed.toString(), openedQty: qty.minus(closed).toString() };
  }
  const closingSide = position.positionIdx === 1 ? 'Sell' : 'Buy';
  if (fill.side === closingSide) {
    return closed.gt(0) ? { closedQty: closed.toString(), openedQty: '0' } : undefined;
  }
  return closed.gt(0) ? undefined : { closedQty: '0', openedQty: qty.toString() };
}

const STOP_LOSS_TYPES: ReadonlySet<string> = new Set(['StopLoss', 'PartialStopLoss']);
const TAKE_PROFIT_TYPES: ReadonlySet<string> = new Set(['TakeProfit', 'PartialTakeProfit']);

/**
 * Why a fill happened, from `execType` (docs/v5/enum.mdx#exectype), then `stopOrderType`, then
 * `createType` (a laddered liquidation is an ordinary `Trade` created `CreateByLiq`).
 */
export function closeKindOf(
  fill: Pick<BybitExecution, 'execType' | 'stopOrderType' | 'createType'>,
): CloseKind {
  switch (fill.execType) {
    case 'BustTrade':
      return 'liquidation';
    case 'AdlTrade':
      return 'auto-deleverage';
    case 'Delivery':
    case 'Settle':
      return 'settlement';
  }
  if (STOP_LOSS_TYPES.has(fill.stopOrderType)) return 'stop-loss';
  if (TAKE_PROFIT_TYPES.has(fill.stopOrderType)) return 'take-profit';
  if (fill.stopOrderType === 'TrailingStop') return 'trailing-stop';
  switch (fill.createType) {
    case 'CreateByLiq':
    case 'CreateByTakeOver_PassThrough':
      return 'liquidation';
    case 'CreateByAdl_PassThrough':
      return 'auto-deleverage';
    case 'CreateBySettle':
      return 'settlement';
    case 'CreateByStopLoss':
    case 'CreateByPartialStopLoss':
      return 'stop-loss';
    case 'CreateByTakeProfit':
    case 'CreateByPartialTakeProfit':
    case 'CreateByTrailingProfit':
      return 'take-profit';
    case 'CreateByTrailingStop':
      return 'trailing-stop';
  }
  // Position moves, corporate actions and the MMR auto-close are neither the user's hand nor a stop.
  if (fill.execType === 'MovePosition' || fill.execType === 'CorporateAction') return 'other';
  if (fill.stopOrderType === 'MmRateClose') return 'other';
  return 'manual';
}

/**
 * Whether a fill happened after the position state last seen. The cross sequence (`seq`) is shared
 * by fills and position updates of a symbol (docs/v5/order/execution.mdx), so when both sides have
 * one it orders them without trusting clocks; else the fill must be strictly later than the state.
 */
export function isAfterSeenState(
  fill: Pick<BybitExecution, 'seq' | 'execTime'>,
  position: Pick<TrackedPosition, 'stateSequence' | 'stateUpdatedAt'>,
): boolean {
  if (fill.seq !== undefined && fill.seq >= 0 && position.stateSequence !== undefined) {
    return fill.seq > position.stateSequence;
  }
  return fill.execTime > position.stateUpdatedAt;
}

/**
 * The fills that changed this position after its last seen state, attributed, without duplicates
 * (pages and 7-day windows may overlap), oldest first.
 */
export function changesSince(
  fills: readonly BybitExecution[],
  position: Pick<TrackedPosition, 'symbol' | 'positionIdx' | 'stateSequence' | 'stateUpdatedAt'>,
): PositionChange[] {
  const byId = new Map<string, PositionChange>();
  for (const fill of fills) {
    if (byId.has(fill.execId) || !isAfterSeenState(fill, position)) continue;
    const attribution = attributeFill(fill, position);
    if (attribution === undefined) continue;
    byId.set(fill.execId, {
      id: fill.execId,
      source: 'execution',
      time: fill.execTime,
      ...(fill.seq === undefined || fill.seq < 0 ? {} : { sequence: fill.seq }),
      closedQty: attribution.closedQty,
      openedQty: attribution.openedQty,
      kind: closeKindOf(fill),
      ...(fill.orderId === '' ? {} : { orderId: fill.orderId }),
    });
  }
  return [...byId.values()].sort((a, b) => a.time - b.time || (a.sequence ?? 0) - (b.sequence ?? 0));
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
  return {
    orderId: order.orderId,
    symbol: order.symbol,
    positionIdx: order.positionIdx,
    kind,
    ...(hasTrigger ? { triggerPrice: order.triggerPrice } : {}),
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
