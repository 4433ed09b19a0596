import Big from 'big.js';
import {
  type CancelType,
  type CloseHow,
  type CreateType,
  type ExecType,
  type OrderKind,
  type OrderStatus,
  type OrderType,
  type PositionIdx,
  type PositionMode,
  type ProtectiveKind,
  RESTING_STATUSES,
  type Side,
  type SimAccountSpec,
  type StopOrderType,
} from './types.js';

/**
 * The simulated exchange's state and rules, with no HTTP, no randomness and no faults: what is *really*
 * true at any moment, and the ground truth (false cancels, orphans) every reconciler is judged by.
 * Every time comes from the injected clock. Quantities and prices are decimal strings, computed with big.js.
 */

export const TAKER_FEE_RATE = '0.00055';
export const MAKER_FEE_RATE = '0.0002';
export const LEVERAGE = '10';

export interface SimPosition {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  /** `''` when flat, as Bybit UTA answers. */
  readonly side: Side | '';
  readonly size: string;
  readonly avgPrice: string;
  /** First time a position existed on this symbol and index; 0 if never. */
  readonly createdTime: number;
  readonly updatedTime: number;
  /** When the current holding was opened; 0 when flat. */
  readonly openTime: number;
  /** Per-symbol sequence of the last fill that changed this position; -1 if never traded. */
  readonly seq: number;
  readonly curRealisedPnl: string;
  readonly cumRealisedPnl: string;
}

export interface SimOrder {
  readonly orderId: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly side: Side;
  readonly kind: OrderKind;
  readonly orderType: OrderType;
  readonly stopOrderType: StopOrderType;
  readonly tpslMode: 'Full' | 'Partial' | '';
  readonly createType: CreateType;
  /** `''` for orders without a trigger (market, plain limit). Trailing stops move it. */
  readonly triggerPrice: string;
  /** Limit price; `'0'` for market orders. */
  readonly price: string;
  readonly qty: string;
  readonly reduceOnly: boolean;
  readonly closeOnTrigger: boolean;
  /** 1: fires when the price rises to the trigger/limit, 2: when it falls to it. */
  readonly crossDirection: 1 | 2;
  readonly orderStatus: OrderStatus;
  readonly cancelType: CancelType;
  readonly cumExecQty: string;
  readonly cumExecValue: string;
  readonly cumExecFee: string;
  readonly avgPrice: string;
  /** Market price when the order was placed. */
  readonly lastPriceOnCreated: string;
  /** Trailing stops only: how far behind the best price the trigger follows. */
  readonly trailingDistance?: string;
  readonly createdTime: number;
  readonly updatedTime: number;
}

export interface SimExecution {
  readonly execId: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly side: Side;
  readonly orderType: OrderType;
  readonly stopOrderType: StopOrderType;
  readonly createType: CreateType;
  readonly orderPrice: string;
  readonly orderQty: string;
  readonly leavesQty: string;
  readonly execPrice: string;
  readonly execQty: string;
  readonly execValue: string;
  readonly execFee: string;
  readonly feeRate: string;
  readonly execType: ExecType;
  /** How much of an opposite position this fill closed; `'0'` for a pure open or add. */
  readonly closedSize: string;
  readonly isMaker: boolean;
  readonly markPrice: string;
  readonly execTime: number;
  readonly seq: number;
}

export interface SimClosedPnl {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly side: Side;
  readonly qty: string;
  readonly orderPrice: string;
  readonly orderType: OrderType;
  readonly execType: ExecType;
  readonly closedSize: string;
  readonly cumEntryValue: string;
  readonly avgEntryPrice: string;
  readonly cumExitValue: string;
  readonly avgExitPrice: string;
  readonly closedPnl: string;
  readonly openFee: string;
  readonly closeFee: string;
  readonly createdTime: number;
}

/** A cancel that hit a protective order while its position was still open: the incident's harm. */
export interface FalseCancel {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly kind: ProtectiveKind;
  /** Size of the position the order was protecting, at the moment of the cancel. */
  readonly positionSize: string;
  readonly at: number;
}

export type OrphanEnd =
  /** Cancelled through the API: the cleanup a reconciler owes. */
  | 'cancelled'
  /** Fired with nothing to reduce, so the exchange cancelled it. */
  | 'exchange-cancelled'
  /** The position was reopened: the order protects (or endangers) the new holding, no longer an orphan. */
  | 'position-reopened';

/** A protective order left resting after its position went to size 0. */
export interface OrphanRecord {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly kind: ProtectiveKind;
  readonly orphanedAt: number;
  /** Set when the orphan was cancelled through the API; `cleanedAt - orphanedAt` is the cleanup delay. */
  readonly cleanedAt?: number;
  readonly endedAt?: number;
  readonly end?: OrphanEnd;
}

export interface CancelRecord {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly at: number;
  readonly falseCancel: boolean;
  readonly cleanedOrphan: boolean;
}

export interface OpenPositionInput {
  accountId: string;
  symbol: string;
  side: Side;
  qty: string;
  price?: string;
  positionIdx?: PositionIdx;
}

export interface ProtectiveOrderInput {
  accountId: string;
  symbol: string;
  positionIdx?: PositionIdx;
  kind: ProtectiveKind;
  /** Trigger price; for `reduce-only-limit`, the limit price. */
  triggerPrice: string;
  /** Omitted: the order covers the whole position (Bybit "Full" TP/SL); given: a partial order. */
  qty?: string;
}

export interface ClosePositionInput {
  accountId: string;
  symbol: string;
  positionIdx?: PositionIdx;
  how?: CloseHow;
  /** Omitted: the whole position. */
  qty?: string;
}

/** A reduce-only conditional or limit order as `POST /v5/order/create` can express it. */
export interface ApiOrderInput {
  symbol: string;
  side: Side;
  orderType: OrderType;
  qty: string;
  price?: string;
  triggerPrice?: string;
  triggerDirection?: 1 | 2;
  reduceOnly: boolean;
  closeOnTrigger: boolean;
  positionIdx?: PositionIdx;
}

export type CancelResult =
  | { readonly status: 'cancelled'; readonly order: SimOrder }
  | { readonly status: 'not-found' }
  | { readonly status: 'not-resting'; readonly order: SimOrder };

/** A request the exchange refuses, with the Bybit retCode it answers. */
export class SimRejection extends Error {
  constructor(
    readonly retCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimRejection';
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface AccountState {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly positionMode: PositionMode;
  readonly positions: Map<string, Mutable<SimPosition>>;
  readonly orders: Mutable<SimOrder>[];
  readonly ordersById: Map<string, Mutable<SimOrder>>;
  readonly executions: SimExecution[];
  readonly closedPnl: SimClosedPnl[];
}

export interface AccountInfo {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly positionMode: PositionMode;
}

const positionKey = (symbol: string, idx: PositionIdx) => `${symbol}#${idx}`;
const opposite = (side: Side): Side => (side === 'Buy' ? 'Sell' : 'Buy');
const fmt = (value: Big) => value.toFixed();
const DECIMAL = /^\d+(\.\d+)?$/;

function positiveDecimal(value: unknown, name: string): string {
  if (typeof value !== 'string' || !DECIMAL.test(value) || !new Big(value).gt(0)) {
    throw new SimRejection(
      10001,
      `params error: ${name} must be a positive decimal string, got ${String(value)}`,
    );
  }
  return value;
}

/** UUID-shaped like Bybit's ids, but counted, so the same script yields the same ids. */
function countedId(counter: number, tag: 'a' | 'e'): string {
  return `${counter.toString(16).padStart(8, '0')}-0000-4000-8000-00000000000${tag}`;
}

export class SimWorld {
  private readonly accounts = new Map<string, AccountState>();
  private readonly accountIdByKey = new Map<string, string>();
  private readonly prices = new Map<string, string>();
  private readonly symbolSeq = new Map<string, number>();
  private orderCounter = 0;
  private execCounter = 0;
  private readonly falseCancelLog: FalseCancel[] = [];
  private readonly orphanLog: Mutable<OrphanRecord>[] = [];
  private readonly cancelLog: CancelRecord[] = [];

  constructor(private readonly clock: () => number) {}

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

  /** The account an API key belongs to, secret included: for request verification only, never for output. */
  accountByApiKey(apiKey: string): AccountInfo | undefined {
    const id = this.accountIdByKey.get(apiKey);
    const account = id === undefined ? undefined : this.accounts.get(id);
    return account && this.info(account);
  }

  price(symbol: string): string | undefined {
    return this.prices.get(symbol);
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

  /** Market-buys or -sells `qty`: opens, adds to, or (one-way, opposite side) reduces and flips a position. */
  openPosition(input: OpenPositionInput): string {
    const account = this.state(input.accountId);
    const qty = positiveDecimal(input.qty, 'qty');
    const idx = this.idxForOpen(account, input.side, input.positionIdx);
    const price =
      input.price === undefined ? this.prices.get(input.symbol) : positiveDecimal(input.price, 'price');
    if (price === undefined) throw new Error(`no price for ${input.symbol}: setPrice first or pass price`);
    if (!this.prices.has(input.symbol)) this.prices.set(input.symbol, price);
    const order = this.newOrder(account, {
      symbol: input.symbol,
      positionIdx: idx,
      side: input.side,
      kind: 'market',
      orderType: 'Market',
      createType: 'CreateByUser',
      qty,
      reduceOnly: false,
    });
    this.fill(account, order, qty, price, 'Trade', false);
    return order.orderId;
  }

  placeProtectiveOrder(input: ProtectiveOrderInput): string {
    const account = this.state(input.accountId);
    const idx = this.idxForExisting(account, input.symbol, input.positionIdx);
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '') {
      throw new Error(`${input.accountId} has no open position ${input.symbol}#${idx} to protect`);
    }
    const trigger = positiveDecimal(input.triggerPrice, 'triggerPrice');
    const qty = input.qty === undefined ? undefined : positiveDecimal(input.qty, 'qty');
    const isLong = position.side === 'Buy';
    // SL and trailing stops fire against the position, TP and reduce-only limits in its favour.
    const adverse: 1 | 2 = isLong ? 2 : 1;
    const favourable: 1 | 2 = isLong ? 1 : 2;
    const full = qty === undefined;
    const common = {
      symbol: input.symbol,
      positionIdx: idx,
      side: opposite(position.side),
      kind: input.kind,
      qty: qty ?? position.size,
      reduceOnly: true,
    } as const;
    let fields: NewOrderFields;
    switch (input.kind) {
      case 'stop-loss':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: full ? 'StopLoss' : 'PartialStopLoss',
          tpslMode: full ? 'Full' : 'Partial',
          createType: full ? 'CreateByStopLoss' : 'CreateByPartialStopLoss',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: adverse,
        };
        break;
      case 'take-profit':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: full ? 'TakeProfit' : 'PartialTakeProfit',
          tpslMode: full ? 'Full' : 'Partial',
          createType: full ? 'CreateByTakeProfit' : 'CreateByPartialTakeProfit',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: favourable,
        };
        break;
      case 'trailing-stop':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: 'TrailingStop',
          tpslMode: full ? 'Full' : 'Partial',
          createType: 'CreateByTrailingStop',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: adverse,
        };
        break;
      case 'reduce-only-limit':
        fields = {
          ...common,
          orderType: 'Limit',
          price: trigger,
          tpslMode: full ? 'Full' : 'Partial',
          closeOnTrigger: false,
          crossDirection: favourable,
        };
        break;
    }
    return this.rest(account, fields).orderId;
  }

  /** Closes all or part of an open position by a market order, a liquidation or an ADL. */
  closePosition(input: ClosePositionInput): string {
    const account = this.state(input.accountId);
    const idx = this.idxForExisting(account, input.symbol, input.positionIdx);
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '') {
      throw new Error(`${input.accountId} has no open position ${input.symbol}#${idx} to close`);
    }
    const qty = input.qty === undefined ? position.size : positiveDecimal(input.qty, 'qty');
    if (new Big(qty).gt(position.size)) {
      throw new Error(`cannot close ${qty} of ${input.symbol}#${idx}: size is ${position.size}`);
    }
    const price = this.prices.get(input.symbol) ?? position.avgPrice;
    const how = input.how ?? 'manual';
    const createType: CreateType =
      how === 'liquidation'
        ? 'CreateByTakeOver_PassThrough'
        : how === 'adl'
          ? 'CreateByAdl_PassThrough'
          : 'CreateByUser';
    const execType: ExecType = how === 'liquidation' ? 'BustTrade' : how === 'adl' ? 'AdlTrade' : 'Trade';
    const order = this.newOrder(account, {
      symbol: input.symbol,
      positionIdx: idx,
      side: opposite(position.side),
      kind: 'market',
      orderType: 'Market',
      createType,
      qty,
      reduceOnly: true,
    });
    this.fill(account, order, qty, price, execType, false);
    return order.orderId;
  }

  /** `POST /v5/order/create`, restricted to what a position's owner needs: market orders and reduce-only resting orders. */
  placeApiOrder(accountId: string, input: ApiOrderInput): string {
    const account = this.state(accountId);
    positiveDecimal(input.qty, 'qty');
    if (account.positionMode === 'hedge' && (input.positionIdx === undefined || input.positionIdx === 0)) {
      throw new SimRejection(10001, 'params error: position idx not match position mode');
    }
    if (account.positionMode === 'one-way' && input.positionIdx !== undefined && input.positionIdx !== 0) {
      throw new SimRejection(10001, 'params error: position idx not match position mode');
    }
    const protective = input.reduceOnly || input.closeOnTrigger;
    if (input.triggerPrice === undefined && input.orderType === 'Market') {
      if (!protective) {
        return this.openPosition({
          accountId,
          symbol: input.symbol,
          side: input.side,
          qty: input.qty,
          ...(input.positionIdx === undefined ? {} : { positionIdx: input.positionIdx }),
        });
      }
      const position = this.reducible(account, input);
      const qty = new Big(input.qty).gt(position.size) ? position.size : input.qty;
      return this.closePosition({ accountId, symbol: input.symbol, positionIdx: position.positionIdx, qty });
    }
    if (!protective) {
      throw new SimRejection(
        10001,
        'params error: the simulator rests only reduce-only or close-on-trigger orders',
      );
    }
    const position = this.reducible(account, input);
    const isLong = position.side === 'Buy';
    if (input.triggerPrice === undefined) {
      const price = positiveDecimal(input.price, 'price');
      return this.rest(account, {
        symbol: input.symbol,
        positionIdx: position.positionIdx,
        side: input.side,
        kind: 'reduce-only-limit',
        orderType: 'Limit',
        price,
        tpslMode: 'Partial',
        qty: input.qty,
        reduceOnly: true,
        closeOnTrigger: false,
        crossDirection: isLong ? 1 : 2,
      }).orderId;
    }
    const trigger = positiveDecimal(input.triggerPrice, 'triggerPrice');
    if (input.triggerDirection !== 1 && input.triggerDirection !== 2) {
      throw new SimRejection(10001, 'params error: triggerDirection must be 1 or 2 for a conditional order');
    }
    const adverse = (isLong ? 2 : 1) === input.triggerDirection;
    return this.rest(account, {
      symbol: input.symbol,
      positionIdx: position.positionIdx,
      side: input.side,
      kind: adverse ? 'stop-loss' : 'take-profit',
      orderType: input.orderType,
      ...(input.orderType === 'Limit' ? { price: positiveDecimal(input.price, 'price') } : {}),
      stopOrderType: 'Stop',
      tpslMode: '',
      createType: 'CreateByStopOrder',
      triggerPrice: trigger,
      qty: input.qty,
      reduceOnly: input.reduceOnly,
      closeOnTrigger: input.closeOnTrigger,
      crossDirection: input.triggerDirection,
    }).orderId;
  }

  /**
   * Cancels a resting order, judging it against the truth of this instant: a protective order of a
   * position with size > 0 is a false cancel; an orphan's cancel is a cleanup.
   */
  cancelOrder(accountId: string, symbol: string, orderId: string): CancelResult {
    const account = this.state(accountId);
    const order = account.ordersById.get(orderId);
    if (!order || order.symbol !== symbol) return { status: 'not-found' };
    if (!RESTING_STATUSES.has(order.orderStatus)) return { status: 'not-resting', order: { ...order } };
    const now = this.clock();
    const position = account.positions.get(positionKey(order.symbol, order.positionIdx));
    const liveSize = position?.size ?? '0';
    const kind = order.kind;
    const falseCancel = kind !== 'market' && new Big(liveSize).gt(0);
    this.retire(order, 'CancelByUser', now);
    const orphan = this.waitingOrphan(accountId, orderId);
    if (orphan) {
      orphan.cleanedAt = now;
      orphan.endedAt = now;
      orphan.end = 'cancelled';
    }
    if (falseCancel) {
      this.falseCancelLog.push({
        accountId,
        symbol: order.symbol,
        positionIdx: order.positionIdx,
        orderId,
        kind,
        positionSize: liveSize,
        at: now,
      });
    }
    this.cancelLog.push({
      accountId,
      symbol: order.symbol,
      positionIdx: order.positionIdx,
      orderId,
      at: now,
      falseCancel,
      cleanedOrphan: orphan !== undefined,
    });
    return { status: 'cancelled', order: { ...order } };
  }

  /** The account's open positions (size > 0), by symbol then index. */
  openPositions(accountId: string): SimPosition[] {
    return [...this.state(accountId).positions.values()]
      .filter((p) => p.side !== '')
      .sort(byPositionKey)
      .map((p) => ({ ...p }));
  }

  /** What Bybit answers for one symbol: every index of the account's mode, flat ones included. */
  positionsForSymbol(accountId: string, symbol: string): SimPosition[] {
    const account = this.state(accountId);
    const indexes: readonly PositionIdx[] = account.positionMode === 'hedge' ? [1, 2] : [0];
    return indexes.map((idx) => ({
      ...(account.positions.get(positionKey(symbol, idx)) ?? flat(accountId, symbol, idx)),
    }));
  }

  orders(accountId: string): SimOrder[] {
    return this.state(accountId).orders.map((o) => ({ ...o }));
  }

  /** Resting orders (Untriggered conditionals and New limits). */
  openOrders(accountId: string): SimOrder[] {
    return this.orders(accountId).filter((o) => RESTING_STATUSES.has(o.orderStatus));
  }

  executions(accountId: string): SimExecution[] {
    return [...this.state(accountId).executions];
  }

  closedPnl(accountId: string): SimClosedPnl[] {
    return [...this.state(accountId).closedPnl];
  }

  falseCancels(): FalseCancel[] {
    return [...this.falseCancelLog];
  }

  orphans(): OrphanRecord[] {
    return this.orphanLog.map((o) => ({ ...o }));
  }

  cancels(): CancelRecord[] {
    return [...this.cancelLog];
  }

  private state(accountId: string): AccountState {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`unknown account ${accountId}`);
    return account;
  }

  private info(account: AccountState): AccountInfo {
    return {
      id: account.id,
      apiKey: account.apiKey,
      apiSecret: account.apiSecret,
      positionMode: account.positionMode,
    };
  }

  private idxForOpen(account: AccountState, side: Side, idx: PositionIdx | undefined): PositionIdx {
    if (account.positionMode === 'one-way') {
      if (idx !== undefined && idx !== 0)
        throw new Error(`${account.id} is in one-way mode: positionIdx must be 0`);
      return 0;
    }
    const leg: PositionIdx = side === 'Buy' ? 1 : 2;
    if (idx !== undefined && idx !== leg) {
      throw new Error(`${account.id} is in hedge mode: a ${side} opens positionIdx ${leg}, not ${idx}`);
    }
    return leg;
  }

  private idxForExisting(account: AccountState, symbol: string, idx: PositionIdx | undefined): PositionIdx {
    if (account.positionMode === 'one-way') {
      if (idx !== undefined && idx !== 0)
        throw new Error(`${account.id} is in one-way mode: positionIdx must be 0`);
      return 0;
    }
    if (idx === 1 || idx === 2) return idx;
    if (idx === 0) throw new Error(`${account.id} is in hedge mode: positionIdx must be 1 or 2`);
    const open = ([1, 2] as const).filter((i) => account.positions.get(positionKey(symbol, i))?.side);
    const only = open.length === 1 ? open[0] : undefined;
    if (only === undefined)
      throw new Error(`${account.id} is in hedge mode: say which leg of ${symbol} (1 or 2)`);
    return only;
  }

  private reducible(account: AccountState, input: ApiOrderInput): SimPosition {
    const idx: PositionIdx = account.positionMode === 'hedge' ? (input.positionIdx ?? 1) : 0;
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '' || position.side === input.side) {
      throw new SimRejection(110017, 'current position is zero, cannot fix reduce-only order qty');
    }
    return position;
  }

  private newOrder(account: AccountState, fields: NewOrderFields): Mutable<SimOrder> {
    const now = this.clock();
    this.orderCounter += 1;
    const market = this.prices.get(fields.symbol) ?? '';
    const order: Mutable<SimOrder> = {
      orderId: countedId(this.orderCounter, 'a'),
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
  private rest(account: AccountState, fields: NewOrderFields): SimOrder {
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

  /** Trailing stops follow the market in the position's favour, never back. */
  private trail(order: Mutable<SimOrder>, market: Big): void {
    if (order.kind !== 'trailing-stop' || order.trailingDistance === undefined) return;
    const closesLong = order.side === 'Sell';
    const candidate = closesLong ? market.minus(order.trailingDistance) : market.plus(order.trailingDistance);
    const current = new Big(order.triggerPrice);
    if (closesLong ? candidate.gt(current) : candidate.lt(current)) order.triggerPrice = fmt(candidate);
  }

  private fire(account: AccountState, order: Mutable<SimOrder>, marketPrice: string): void {
    const position = account.positions.get(positionKey(order.symbol, order.positionIdx));
    const now = this.clock();
    if (!position || position.side === '' || position.side === order.side) {
      // Reduce-only with nothing to reduce: the exchange cancels instead of opening a position.
      this.retire(order, 'CancelByReduceOnly', now);
      const orphan = this.waitingOrphan(account.id, order.orderId);
      if (orphan) {
        orphan.endedAt = now;
        orphan.end = 'exchange-cancelled';
      }
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

  private retire(order: Mutable<SimOrder>, cancelType: CancelType, now: number): void {
    order.orderStatus = order.triggerPrice === '' ? 'Cancelled' : 'Deactivated';
    order.cancelType = cancelType;
    order.updatedTime = now;
  }

  /**
   * Executes `qty` of `order` at `price` against the order's position: the part opposite to the
   * position closes it (closed-pnl record, orphans when it reaches 0), the rest opens or adds.
   */
  private fill(
    account: AccountState,
    order: Mutable<SimOrder>,
    qty: string,
    price: string,
    execType: ExecType,
    isMaker: boolean,
  ): void {
    const now = this.clock();
    const key = positionKey(order.symbol, order.positionIdx);
    const position = account.positions.get(key) ?? flat(account.id, order.symbol, order.positionIdx);
    account.positions.set(key, position);
    if (position.createdTime === 0) position.createdTime = now;
    const seq = (this.symbolSeq.get(order.symbol) ?? 0) + 1;
    this.symbolSeq.set(order.symbol, seq);
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
        this.orphanRestingOrders(account, order, now);
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
        this.endOrphansOnReopen(account.id, order.symbol, order.positionIdx, now);
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

    this.execCounter += 1;
    account.executions.push({
      execId: countedId(this.execCounter, 'e'),
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
      markPrice: this.prices.get(order.symbol) ?? price,
      execTime: now,
      seq,
    });
  }

  private orphanRestingOrders(account: AccountState, closer: SimOrder, now: number): void {
    for (const order of account.orders) {
      if (
        order.orderId !== closer.orderId &&
        order.symbol === closer.symbol &&
        order.positionIdx === closer.positionIdx &&
        order.kind !== 'market' &&
        RESTING_STATUSES.has(order.orderStatus) &&
        !this.waitingOrphan(account.id, order.orderId)
      ) {
        this.orphanLog.push({
          accountId: account.id,
          symbol: order.symbol,
          positionIdx: order.positionIdx,
          orderId: order.orderId,
          kind: order.kind,
          orphanedAt: now,
        });
      }
    }
  }

  private endOrphansOnReopen(accountId: string, symbol: string, idx: PositionIdx, now: number): void {
    for (const orphan of this.orphanLog) {
      if (
        orphan.endedAt === undefined &&
        orphan.accountId === accountId &&
        orphan.symbol === symbol &&
        orphan.positionIdx === idx
      ) {
        orphan.endedAt = now;
        orphan.end = 'position-reopened';
      }
    }
  }

  private waitingOrphan(accountId: string, orderId: string): Mutable<OrphanRecord> | undefined {
    return this.orphanLog.find(
      (o) => o.endedAt === undefined && o.accountId === accountId && o.orderId === orderId,
    );
  }
}

interface NewOrderFields {
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

function flat(accountId: string, symbol: string, positionIdx: PositionIdx): Mutable<SimPosition> {
  return {
    accountId,
    symbol,
    positionIdx,
    side: '',
    size: '0',
    avgPrice: '0',
    createdTime: 0,
    updatedTime: 0,
    openTime: 0,
    seq: -1,
    curRealisedPnl: '0',
    cumRealisedPnl: '0',
  };
}

function byPositionKey(a: SimPosition, b: SimPosition): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.positionIdx - b.positionIdx;
}
