import Big from 'big.js';
import type { CloseKind, PositionChange, TrackedPosition } from '#core/types.js';
import { STOP_LOSS_TYPES, TAKE_PROFIT_TYPES } from './mapping.js';
import type { BybitClosedPnl, BybitExecution } from './schemas.js';

/**
 * What each fill did to one tracked position: how much it closed and how much it opened. Bybit's
 * execution records carry no `positionIdx`; their `closedSize` (the part of a fill that reduced an
 * open position) is what tells a close from an open, and the hedge legs apart.
 *
 * Executions are the primary source: they carry every fill, opening ones included (so "closed then
 * reopened" does not read as closed), a sequence shared with the position's, and why each fill
 * happened. When a fill that may touch the position has a blank or missing `closedSize`, which is
 * unknown and never read as 0, a second, independent source is needed: `/v5/position/closed-pnl`,
 * one record per closing order, with the closing order's side and what it closed. It costs one more
 * listing per 7-day window, and only when such a fill appears. Every doubt errs towards "not closed":
 * at worst the orders are kept and the suspect waits, then alarms.
 */

/** Per closing order: what it closed and its side (a Sell closes a long). */
export type CloseRecords = ReadonlyMap<string, { readonly closed: Big; readonly side: 'Buy' | 'Sell' }>;

/**
 * Closed-PnL entries summed per order (a recording may hold one per closing fill rather than per
 * order); of one symbol only, when given. Order ids are unique across symbols, so an account-wide
 * listing serves every position's fills.
 */
export function closeRecordsOf(entries: readonly BybitClosedPnl[], symbol?: string): CloseRecords {
  const byOrder = new Map<string, { closed: Big; side: 'Buy' | 'Sell' }>();
  for (const e of entries) {
    if (symbol !== undefined && e.symbol !== symbol) continue;
    const known = byOrder.get(e.orderId);
    byOrder.set(e.orderId, { closed: (known?.closed ?? new Big(0)).plus(e.closedSize), side: e.side });
  }
  return byOrder;
}

export type Attribution =
  | { readonly status: 'attributed'; readonly changes: readonly PositionChange[] }
  /** A fill that may touch the position has no `closedSize`: closed-PnL must be read first. */
  | { readonly status: 'needs-close-records' };

type Position = Pick<
  TrackedPosition,
  'symbol' | 'positionIdx' | 'side' | 'size' | 'stateSequence' | 'stateUpdatedAt'
>;

/**
 * The fills that changed this position after its last seen state, attributed, without duplicates
 * (pages and 7-day windows may overlap), oldest first.
 *
 * With every `closedSize` present:
 * - One-way (idx 0): a fill first closes `closedSize` of whatever is open, the rest opens or adds
 *   (a long sold 3 with closedSize 1 closes 1 and opens a short of 2). The core reads
 *   `size - closed + opened` as what is left at this index, whichever side it is on.
 * - Hedge (idx 1 long / 2 short): only the closing side's fills with closedSize > 0 reduce this leg;
 *   only the opening side's fills with closedSize 0 add to it.
 * For a fill whose `closedSize` is blank, `closeRecords` (closed-PnL) decides:
 * - One-way: the sides walk the position from its last seen state (a Sell on a long closes up to
 *   its size, the rest flips it); the close counts only as far as closed-PnL confirms it for that
 *   order, so both sources must account for the whole size.
 * - Hedge: a closing-side fill closes this leg as far as closed-PnL shows its order closing on that
 *   side; otherwise it opened the other leg (or its record lags) and is not this leg's. An
 *   opening-side fill whose order closed something closed the other leg; otherwise it adds here.
 */
export function attributeFills(
  fills: readonly BybitExecution[],
  position: Position,
  closeRecords?: CloseRecords,
): Attribution {
  const relevant = dedupe(fills).filter(
    (f) => f.symbol === position.symbol && isFill(f) && isAfterSeenState(f, position),
  );
  if (closeRecords === undefined && relevant.some((f) => f.closedSize === undefined)) {
    return { status: 'needs-close-records' };
  }
  const ordered = [...relevant].sort(
    (a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.execTime - b.execTime || a.execId.localeCompare(b.execId),
  );
  const changes: PositionChange[] = [];
  const walk = { side: position.side === 'long' ? 'Buy' : 'Sell', size: new Big(position.size) };
  const unallocated = new Map([...(closeRecords ?? new Map())].map(([id, r]) => [id, r.closed]));
  for (const fill of ordered) {
    const qty = new Big(fill.execQty);
    const attributed =
      fill.closedSize === undefined
        ? fromCloseRecords(fill, qty, position, walk, closeRecords ?? new Map(), unallocated)
        : fromClosedSize(fill, qty, new Big(fill.closedSize), position);
    stepWalk(walk, fill.side, qty);
    if (attributed === undefined) continue;
    changes.push({
      id: fill.execId,
      source: attributed.source,
      time: fill.execTime,
      ...(fill.seq === undefined || fill.seq < 0 ? {} : { sequence: fill.seq }),
      closedQty: attributed.closed.toString(),
      openedQty: attributed.opened.toString(),
      kind: closeKindOf(fill),
      ...(fill.orderId === '' ? {} : { orderId: fill.orderId }),
    });
  }
  return {
    status: 'attributed',
    changes: changes.sort((a, b) => a.time - b.time || (a.sequence ?? 0) - (b.sequence ?? 0)),
  };
}

interface Attributed {
  readonly closed: Big;
  readonly opened: Big;
  readonly source: PositionChange['source'];
}

function fromClosedSize(
  fill: BybitExecution,
  qty: Big,
  closedSize: Big,
  position: Position,
): Attributed | undefined {
  const closed = closedSize.gt(qty) ? qty : closedSize;
  if (position.positionIdx === 0) return { closed, opened: qty.minus(closed), source: 'execution' };
  if (fill.side === closingSideOf(position)) {
    return closed.gt(0) ? { closed, opened: new Big(0), source: 'execution' } : undefined;
  }
  return closed.gt(0) ? undefined : { closed: new Big(0), opened: qty, source: 'execution' };
}

function fromCloseRecords(
  fill: BybitExecution,
  qty: Big,
  position: Position,
  walk: { readonly side: string; readonly size: Big },
  records: CloseRecords,
  unallocated: Map<string, Big>,
): Attributed | undefined {
  const record = records.get(fill.orderId);
  /** What closed-PnL confirms this fill closed on `side`, taken from its order's total. */
  const confirmed = (side: 'Buy' | 'Sell', upTo: Big): Big => {
    const left = unallocated.get(fill.orderId);
    if (record === undefined || record.side !== side || left === undefined) return new Big(0);
    const take = left.lt(upTo) ? left : upTo;
    unallocated.set(fill.orderId, left.minus(take));
    return take;
  };
  if (position.positionIdx === 0) {
    const walked =
      fill.side !== walk.side && walk.size.gt(0) ? (qty.gt(walk.size) ? walk.size : qty) : new Big(0);
    const closed = confirmed(fill.side, walked);
    return { closed, opened: qty.minus(walked), source: closed.gt(0) ? 'closed-pnl' : 'execution' };
  }
  if (fill.side === closingSideOf(position)) {
    const closed = confirmed(fill.side, qty);
    return closed.gt(0) ? { closed, opened: new Big(0), source: 'closed-pnl' } : undefined;
  }
  // The opening side: an order that closed something closed the other leg.
  if (record !== undefined && record.side === fill.side) return undefined;
  return { closed: new Big(0), opened: qty, source: 'execution' };
}

/** The one-way position as the fills move it: a fill against its side reduces it, then flips it. */
function stepWalk(walk: { side: string; size: Big }, side: 'Buy' | 'Sell', qty: Big): void {
  if (walk.size.eq(0) || side === walk.side) {
    walk.side = side;
    walk.size = walk.size.plus(qty);
  } else if (qty.gt(walk.size)) {
    walk.side = side;
    walk.size = qty.minus(walk.size);
  } else {
    walk.size = walk.size.minus(qty);
  }
}

function closingSideOf(position: Pick<TrackedPosition, 'positionIdx' | 'side'>): 'Buy' | 'Sell' {
  if (position.positionIdx === 1) return 'Sell';
  if (position.positionIdx === 2) return 'Buy';
  return position.side === 'long' ? 'Sell' : 'Buy';
}

/** A fill with a quantity: not funding, not one of the qty-less records. */
function isFill(fill: BybitExecution): boolean {
  return fill.execType !== 'Funding' && fill.execQty !== '' && new Big(fill.execQty).gt(0);
}

function dedupe(fills: readonly BybitExecution[]): BybitExecution[] {
  const byId = new Map<string, BybitExecution>();
  for (const f of fills) if (!byId.has(f.execId)) byId.set(f.execId, f);
  return [...byId.values()];
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
