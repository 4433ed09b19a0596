/**
 * The simulator's shared vocabulary (Bybit V5 spellings): the exchange's records as the matching engine
 * keeps them, and the inputs its operations take. Quantities and prices are decimal strings.
 */

export type PositionIdx = 0 | 1 | 2;
export type Side = 'Buy' | 'Sell';
export type PositionMode = 'one-way' | 'hedge';

/** The orders a position's owner rests on the exchange to protect it; all are reduce-only. */
export type ProtectiveKind = 'stop-loss' | 'take-profit' | 'trailing-stop' | 'reduce-only-limit';
/** `market` orders fill at once (opens, manual closes, liquidation, ADL) and are never resting. */
export type OrderKind = ProtectiveKind | 'market';

export type CloseHow = 'manual' | 'liquidation' | 'adl';

export type ExecType = 'Trade' | 'BustTrade' | 'AdlTrade';
export type OrderType = 'Market' | 'Limit';
export type StopOrderType =
  | 'StopLoss'
  | 'TakeProfit'
  | 'TrailingStop'
  | 'PartialStopLoss'
  | 'PartialTakeProfit'
  | 'Stop'
  | '';
export type OrderStatus = 'New' | 'Untriggered' | 'Filled' | 'Cancelled' | 'Deactivated';
export type CreateType =
  | 'CreateByUser'
  | 'CreateByClosing'
  | 'CreateByStopOrder'
  | 'CreateByStopLoss'
  | 'CreateByTakeProfit'
  | 'CreateByPartialStopLoss'
  | 'CreateByPartialTakeProfit'
  | 'CreateByTrailingStop'
  | 'CreateByTakeOver_PassThrough'
  | 'CreateByAdl_PassThrough';
export type CancelType = 'CancelByUser' | 'CancelByReduceOnly' | 'UNKNOWN';

export interface SimAccountSpec {
  id: string;
  apiKey: string;
  apiSecret: string;
  positionMode?: 'one-way' | 'hedge';
}

/** Statuses of an order still on the book: a plain limit (`New`) or a conditional (`Untriggered`). */
export const RESTING_STATUSES: ReadonlySet<OrderStatus> = new Set(['New', 'Untriggered']);

/** A position on one symbol and index, flat ones included (Bybit keeps answering for those). */
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

/** An order in any state: resting protective orders and the market orders that opened or closed positions. */
export interface SimOrder {
  readonly orderId: string;
  /** The client's id (`orderLinkId`), unique per account; '' when none was given. */
  readonly orderLinkId: string;
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

/**
 * One fill or funding settlement, as `/v5/execution/list` reports it. A `Funding` row has Bybit's
 * synthetic orderId, orderType `UNKNOWN`, createType `""`, the position's side and size, and
 * closedSize `"0"`; it changes no size.
 */
export interface SimExecution {
  readonly execId: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly side: Side;
  readonly orderType: OrderType | 'UNKNOWN';
  readonly stopOrderType: StopOrderType;
  readonly createType: CreateType | '';
  readonly orderPrice: string;
  readonly orderQty: string;
  readonly leavesQty: string;
  readonly execPrice: string;
  readonly execQty: string;
  readonly execValue: string;
  /** Funding: positive when paid, negative when received (Bybit's sign). */
  readonly execFee: string;
  /** Funding: the rate as it applies to this side (a short receives a positive rate: negative here). */
  readonly feeRate: string;
  readonly execType: ExecType | 'Funding';
  /** How much of an opposite position this fill closed; `'0'` for a pure open or add. */
  readonly closedSize: string;
  readonly isMaker: boolean;
  readonly markPrice: string;
  readonly execTime: number;
  readonly seq: number;
}

/** The part of a fill that closed a position, as `/v5/position/closed-pnl` reports it. */
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

/** A market order that opens or adds to a position; `price` defaults to the symbol's market price. */
export interface OpenPositionInput {
  accountId: string;
  symbol: string;
  side: Side;
  qty: string;
  price?: string;
  positionIdx?: PositionIdx;
}

/** A reduce-only order resting on an open position. */
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

/** Settles funding on open positions; see `SimExchange.settleFunding`. */
export interface SettleFundingInput {
  /** Only this account's positions; every account's when omitted. */
  accountId?: string;
  /** The funding rate, a signed decimal; default `"0.0001"` (Bybit's base rate per interval). */
  rate?: string;
}

/** Closes a position by a market order, a liquidation or an ADL. */
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
  orderLinkId?: string;
}

/** What a cancel found: the order cancelled, no such order, or an order no longer resting. */
export type CancelResult =
  | { readonly status: 'cancelled'; readonly order: SimOrder }
  | { readonly status: 'not-found' }
  | { readonly status: 'not-resting'; readonly order: SimOrder };
