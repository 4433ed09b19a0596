/**
 * The matching engine: accounts, market prices, and the life of an order (placed, resting, trailing,
 * fired, filled or retired). No HTTP, no randomness, no faults; every time comes from the injected
 * clock. It tells the ground-truth ledger the moments that make or end orphans.
 */

import Big from 'big.js';
import {
  type AccountInfo,
  type AccountState,
  accountInfo,
  byPositionKey,
  type Mutable,
  positionKey,
} from './account-state.js';
import { applyFill } from './fill-accounting.js';
import type { GroundTruthLedger } from './ground-truth.js';
import { positiveDecimal, SimRejection } from './rejection.js';
import {
  type CancelType,
  type CreateType,
  type ExecType,
  type OrderKind,
  type OrderType,
  type PositionIdx,
  RESTING_STATUSES,
  type Side,
  type SimAccountSpec,
  type SimExecution,
  type SimOrder,
  type StopOrderType,
} from './types.js';

const fmt = (value: Big) => value.toFixed();
/** A signed decimal, never "-0". */
const signed = (value: Big) => (value.eq(0) ? '0' : value.toFixed());

/** UUID-shaped like Bybit's ids, but counted, so the same script yields the same ids. */
function countedId(counter: number, tag: 'a' | 'e'): string {
  return `${counter.toString(16).padStart(8, '0')}-0000-4000-8000-00000000000${tag}`;
}

/** An order as the exchange's operations describe it; `newOrder` fills in Bybit's defaults. */
export interface NewOrderFields {
  symbol: string;
  positionIdx: PositionIdx;
  side: Side;
  kind: OrderKind;
  orderType: OrderType;
  stopOrderType?: StopOrderType;
  tpslMode?: 'Full' | 'Partial' | '';
  createType?: CreateType;
  triggerPrice?: string;
  price?: string;
  qty: string;
  reduceOnly: boolean;
  closeOnTrigger?: boolean;
  crossDirection?: 1 | 2;
  orderLinkId?: string;
}

export class MatchingEngine {
  private readonly accounts = new Map<string, AccountState>();
  private readonly accountIdByKey = new Map<string, string>();
  private readonly prices = new Map<string, string>();
  private readonly symbolSeq = new Map<string, number>();
  private orderCounter = 0;
  private execCounter = 0;

  constructor(
    private readonly clock: () => number,
    private readonly truth: GroundTruthLedger,
  ) {}

  addAccount(spec: SimAccountSpec): void {
    if (!spec.id || !spec.apiKey || !spec.apiSecret)
      throw new Error('account needs id, apiKey and apiSecret');
    if (this.accounts.has(spec.id)) throw new Error(`account ${spec.id} already exists`);
    if (this.accountIdByKey.has(spec.apiKey)) throw new Error(`api key of ${spec.id} is already in use`);
    this.accounts.set(spec.id, {
      id: spec.id,
      apiKey: spec.apiKey,
      apiSecret: spec.apiSecret,
      positionMode: spec.positionMode ?? 'one-way',
      positions: new Map(),
      orders: [],
      ordersById: new Map(),
      executions: [],
      closedPnl: [],
    });
    this.accountIdByKey.set(spec.apiKey, spec.id);
  }

  accountIds(): string[] {
    return [...this.accounts.keys()];
  }

  /** The account's live state; throws for an unknown account. */
  account(accountId: string): AccountState {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`unknown account ${accountId}`);
    return account;
  }

  /** The account an API key belongs to, secret included: for request verification only, never for output. */
  accountByApiKey(apiKey: string): AccountInfo | undefined {
    const id = this.accountIdByKey.get(apiKey);
    const account = id === undefined ? undefined : this.accounts.get(id);
    return account && accountInfo(account);
  }

  price(symbol: string): string | undefined {
    return this.prices.get(symbol);
  }

  /** Gives a symbol its first price without moving the market: nothing fires. */
  initialisePrice(symbol: string, price: string): void {
    if (!this.prices.has(symbol)) this.prices.set(symbol, price);
  }

  /** Moves the market; resting orders whose trigger (or limit) the new price reaches fill, in placement order. */
  setPrice(symbol: string, price: string): void {
    positiveDecimal(price, 'price');
    this.prices.set(symbol, price);
    const market = new Big(price);
    for (const account of this.accounts.values()) {
      const resting = account.orders.filter(
        (o) => o.symbol === symbol && RESTING_STATUSES.has(o.orderStatus),
      );
      for (const order of resting) this.trail(order, market);
      for (const order of resting) {
        // An earlier fill in this loop may have cancelled or filled it already.
        if (RESTING_STATUSES.has(order.orderStatus) && crosses(order, market))
          this.fire(account, order, price);
      }
    }
  }

  /** Books a new order with Bybit's defaults for what `fields` leaves out; the caller rests or fills it. */
  newOrder(account: AccountState, fields: NewOrderFields): Mutable<SimOrder> {
    const now = this.clock();
    this.orderCounter += 1;
    const market = this.prices.get(fields.symbol) ?? '';
    const order: Mutable<SimOrder> = {
      orderId: countedId(this.orderCounter, 'a'),
      orderLinkId: fields.orderLinkId ?? '',
      accountId: account.id,
      symbol: fields.symbol,
      positionIdx: fields.positionIdx,
      side: fields.side,
      kind: fields.kind,
      orderType: fields.orderType,
      stopOrderType: fields.stopOrderType ?? '',
      tpslMode: fields.tpslMode ?? '',
      createType: fields.createType ?? 'CreateByUser',
      triggerPrice: fields.triggerPrice ?? '',
      price: fields.price ?? '0',
      qty: fields.qty,
      reduceOnly: fields.reduceOnly,
      closeOnTrigger: fields.closeOnTrigger ?? false,
      crossDirection: fields.crossDirection ?? 1,
      orderStatus: fields.triggerPrice === undefined && fields.orderType === 'Limit' ? 'New' : 'Untriggered',
      cancelType: 'UNKNOWN',
      cumExecQty: '0',
      cumExecValue: '0',
      cumExecFee: '0',
      avgPrice: '',
      lastPriceOnCreated: market,
      createdTime: now,
      updatedTime: now,
    };
    account.orders.push(order);
    account.ordersById.set(order.orderId, order);
    return order;
  }

  /** Rests a protective order, refusing one the market has already crossed (Bybit rejects those too). */
  rest(account: AccountState, fields: NewOrderFields): SimOrder {
    const market = this.prices.get(fields.symbol);
    const level = fields.triggerPrice ?? fields.price;
    if (market !== undefined && level !== undefined && crosses({ ...fields, level }, new Big(market))) {
      throw new SimRejection(
        110092,
        `${fields.kind} at ${level} is already crossed by the market price ${market} of ${fields.symbol}`,
      );
    }
    const order = this.newOrder(account, fields);
    if (fields.kind === 'trailing-stop' && market !== undefined && fields.triggerPrice !== undefined) {
      order.trailingDistance = fmt(new Big(market).minus(fields.triggerPrice).abs());
    }
    return { ...order };
  }

  /** Takes a resting order off the book: `Cancelled` if it had no trigger, `Deactivated` if it had. */
  retire(order: Mutable<SimOrder>, cancelType: CancelType, now: number): void {
    order.orderStatus = order.triggerPrice === '' ? 'Cancelled' : 'Deactivated';
    order.cancelType = cancelType;
    order.updatedTime = now;
  }

  /** Executes `qty` of `order` at `price` (see `applyFill`), numbering the fill and its execution. */
  fill(
    account: AccountState,
    order: Mutable<SimOrder>,
    qty: string,
    price: string,
    execType: ExecType,
    isMaker: boolean,
  ): void {
    const now = this.clock();
    const seq = this.nextSeq(order.symbol);
    this.execCounter += 1;
    const execId = countedId(this.execCounter, 'e');
    const markPrice = this.prices.get(order.symbol) ?? price;
    applyFill(
      account,
      order,
      { qty, price, execType, isMaker, now, seq, execId, markPrice },
      {
        positionFlattened: () => this.truth.orphanRestingOrders(account.id, account.orders, order, now),
        positionOpened: () => this.truth.endOrphansOnReopen(account.id, order.symbol, order.positionIdx, now),
      },
    );
  }

  /**
   * Settles funding at `now` on every open position of these accounts, by symbol then index. Each
   * takes the symbol's next cross sequence (the counter fills use) as its `seq`, and `now` as its
   * `updatedTime`, with no trade and no size change; its realised PnL moves by the fee, and a
   * `Funding` row joins its execution history. `rate` is signed: positive, longs pay shorts.
   */
  settleFunding(accountIds: readonly string[], rate: string, now: number): SimExecution[] {
    const settled: SimExecution[] = [];
    for (const accountId of accountIds) {
      const account = this.account(accountId);
      const open = [...account.positions.values()].filter((p) => p.side !== '').sort(byPositionKey);
      for (const position of open) {
        const side: Side = position.side === 'Sell' ? 'Sell' : 'Buy';
        const seq = this.nextSeq(position.symbol);
        this.execCounter += 1;
        const mark = this.prices.get(position.symbol) ?? position.avgPrice;
        const value = new Big(position.size).times(mark);
        // Bybit's sign: execFee positive is paid. A long pays a positive rate, a short receives it.
        const feeRate = side === 'Buy' ? new Big(rate) : new Big(rate).times(-1);
        const fee = value.times(feeRate).round(8);
        position.updatedTime = now;
        position.seq = seq;
        position.curRealisedPnl = signed(new Big(position.curRealisedPnl).minus(fee));
        position.cumRealisedPnl = signed(new Big(position.cumRealisedPnl).minus(fee));
        const row: SimExecution = {
          execId: countedId(this.execCounter, 'e'),
          accountId,
          symbol: position.symbol,
          positionIdx: position.positionIdx,
          // Bybit's synthetic funding order ids, e.g. "1682668800-BTCUSDT-460579-Buy".
          orderId: `${Math.floor(now / 1000)}-${position.symbol}-${seq}-${side}`,
          side,
          orderType: 'UNKNOWN',
          stopOrderType: '',
          createType: '',
          orderPrice: '0',
          orderQty: '0',
          leavesQty: '0',
          execPrice: mark,
          execQty: position.size,
          execValue: fmt(value),
          execFee: signed(fee),
          feeRate: signed(feeRate),
          execType: 'Funding',
          closedSize: '0',
          isMaker: false,
          markPrice: mark,
          execTime: now,
          seq,
        };
        account.executions.push(row);
        settled.push(row);
      }
    }
    return settled;
  }

  /** The symbol's next cross sequence: shared by its fills and its positions' other updates. */
  private nextSeq(symbol: string): number {
    const seq = (this.symbolSeq.get(symbol) ?? 0) + 1;
    this.symbolSeq.set(symbol, seq);
    return seq;
  }

  /** Trailing stops follow the market in the position's favour, never back. */
  private trail(order: Mutable<SimOrder>, market: Big): void {
    if (order.kind !== 'trailing-stop' || order.trailingDistance === undefined) return;
    const closesLong = order.side === 'Sell';
    const candidate = closesLong ? market.minus(order.trailingDistance) : market.plus(order.trailingDistance);
    const current = new Big(order.triggerPrice);
    if (closesLong ? candidate.gt(current) : candidate.lt(current)) order.triggerPrice = fmt(candidate);
  }

  /** The market reached a resting order: it fills, or is cancelled if there is nothing to reduce. */
  private fire(account: AccountState, order: Mutable<SimOrder>, marketPrice: string): void {
    const position = account.positions.get(positionKey(order.symbol, order.positionIdx));
    const now = this.clock();
    if (!position || position.side === '' || position.side === order.side) {
      // Reduce-only with nothing to reduce: the exchange cancels instead of opening a position.
      this.retire(order, 'CancelByReduceOnly', now);
      this.truth.endOrphanByExchange(account.id, order.orderId, now);
      return;
    }
    const wanted = order.tpslMode === 'Full' ? position.size : order.qty;
    const qty = new Big(wanted).gt(position.size) ? position.size : wanted;
    const execPrice = order.orderType === 'Limit' ? order.price : marketPrice;
    this.fill(
      account,
      order,
      qty,
      execPrice,
      'Trade',
      order.orderType === 'Limit' && order.triggerPrice === '',
    );
  }
}

/** Whether the market has reached an order's trigger (or, for a plain limit, its limit price). */
function crosses(
  order: {
    readonly triggerPrice?: string;
    readonly price?: string;
    readonly crossDirection?: 1 | 2;
    level?: string;
  },
  market: Big,
): boolean {
  const level = order.level ?? (order.triggerPrice ? order.triggerPrice : order.price);
  if (level === undefined || level === '') return false;
  return order.crossDirection === 2 ? market.lte(level) : market.gte(level);
}
