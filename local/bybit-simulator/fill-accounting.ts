/**
 * What one fill does to an account: the position it closes, reduces, opens or adds to, the closed-PnL
 * record of the closed part, the order's execution totals, the size of the position's Full TP/SL
 * orders, and the execution record. Decimal arithmetic by big.js.
 */

import Big from 'big.js';
import { type AccountState, flatPosition, type Mutable, positionKey } from './account-state.js';
import { type ExecType, RESTING_STATUSES, type SimOrder } from './types.js';

/** Bybit's base rates for linear perpetuals: taker for market fills, maker for resting limits. */
const TAKER_FEE_RATE = '0.00055';
const MAKER_FEE_RATE = '0.0002';

const fmt = (value: Big) => value.toFixed();

/** A fill's terms, fixed by the matching engine before it is booked. */
export interface FillTerms {
  readonly qty: string;
  readonly price: string;
  readonly execType: ExecType;
  readonly isMaker: boolean;
  readonly now: number;
  /** The symbol's fill sequence number. */
  readonly seq: number;
  readonly execId: string;
  readonly markPrice: string;
}

/** The moments the ground truth needs to hear of, reported while the fill is booked. */
export interface FillEvents {
  /** The position went to size 0 (before any remainder of the fill opens the other side). */
  positionFlattened(): void;
  /** The position opened from flat. */
  positionOpened(): void;
}

/**
 * Books `terms.qty` of `order` at `terms.price` against the order's position: the part opposite to the
 * position closes it (closed-PnL record; orphans when it reaches 0), the rest opens or adds.
 */
export function applyFill(
  account: AccountState,
  order: Mutable<SimOrder>,
  terms: FillTerms,
  events: FillEvents,
): void {
  const { qty, price, execType, isMaker, now, seq } = terms;
  const key = positionKey(order.symbol, order.positionIdx);
  const position = account.positions.get(key) ?? flatPosition(account.id, order.symbol, order.positionIdx);
  account.positions.set(key, position);
  if (position.createdTime === 0) position.createdTime = now;
  const feeRate = isMaker ? MAKER_FEE_RATE : TAKER_FEE_RATE;
  const execValue = new Big(qty).times(price);
  const execFee = execValue.times(feeRate);

  let closed = new Big(0);
  if (position.side !== '' && position.side !== order.side) {
    closed = new Big(qty).gt(position.size) ? new Big(position.size) : new Big(qty);
    const entry = new Big(position.avgPrice);
    const direction = position.side === 'Buy' ? 1 : -1;
    const gross = new Big(price).minus(entry).times(closed).times(direction);
    const openFee = entry.times(closed).times(TAKER_FEE_RATE);
    const closeFee = closed.times(price).times(feeRate);
    const pnl = gross.minus(openFee).minus(closeFee).round(8);
    position.size = fmt(new Big(position.size).minus(closed));
    position.curRealisedPnl = fmt(new Big(position.curRealisedPnl).plus(pnl));
    position.cumRealisedPnl = fmt(new Big(position.cumRealisedPnl).plus(pnl));
    account.closedPnl.push({
      accountId: account.id,
      symbol: order.symbol,
      positionIdx: order.positionIdx,
      orderId: order.orderId,
      side: order.side,
      qty: order.qty,
      orderPrice: order.orderType === 'Limit' ? order.price : price,
      orderType: order.orderType,
      execType,
      closedSize: fmt(closed),
      cumEntryValue: fmt(entry.times(closed)),
      avgEntryPrice: position.avgPrice,
      cumExitValue: fmt(closed.times(price)),
      avgExitPrice: price,
      closedPnl: fmt(pnl),
      openFee: fmt(openFee.round(8)),
      closeFee: fmt(closeFee.round(8)),
      createdTime: now,
    });
    if (new Big(position.size).eq(0)) {
      position.side = '';
      position.avgPrice = '0';
      position.openTime = 0;
      events.positionFlattened();
    }
  }

  const opened = new Big(qty).minus(closed);
  if (opened.gt(0)) {
    if (position.side === '') {
      position.side = order.side;
      position.avgPrice = price;
      position.size = fmt(opened);
      position.openTime = now;
      position.curRealisedPnl = '0';
      events.positionOpened();
    } else {
      const size = new Big(position.size);
      const total = size.plus(opened);
      position.avgPrice = fmt(size.times(position.avgPrice).plus(opened.times(price)).div(total).round(8));
      position.size = fmt(total);
    }
  }
  position.updatedTime = now;
  position.seq = seq;

  order.cumExecQty = fmt(new Big(order.cumExecQty).plus(qty));
  order.cumExecValue = fmt(new Big(order.cumExecValue).plus(execValue));
  order.cumExecFee = fmt(new Big(order.cumExecFee).plus(execFee).round(8));
  order.avgPrice = price;
  order.orderStatus = 'Filled';
  order.updatedTime = now;

  // Full TP/SL orders cover whatever the position holds now.
  if (position.side !== '') {
    for (const other of account.orders) {
      if (
        other.symbol === order.symbol &&
        other.positionIdx === order.positionIdx &&
        other.tpslMode === 'Full' &&
        RESTING_STATUSES.has(other.orderStatus)
      ) {
        other.qty = position.size;
      }
    }
  }

  account.executions.push({
    execId: terms.execId,
    accountId: account.id,
    symbol: order.symbol,
    positionIdx: order.positionIdx,
    orderId: order.orderId,
    side: order.side,
    orderType: order.orderType,
    stopOrderType: order.stopOrderType,
    createType: order.createType,
    orderPrice: order.orderType === 'Limit' ? order.price : price,
    orderQty: order.qty,
    leavesQty: '0',
    execPrice: price,
    execQty: qty,
    execValue: fmt(execValue),
    execFee: fmt(execFee.round(8)),
    feeRate,
    execType,
    closedSize: fmt(closed),
    isMaker,
    markPrice: terms.markPrice,
    execTime: now,
    seq,
  });
}
