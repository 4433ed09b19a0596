/** Vocabulary shared by the simulator's world, wire mapping and HTTP layer (Bybit V5 spellings). */

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

export const RESTING_STATUSES: ReadonlySet<OrderStatus> = new Set(['New', 'Untriggered']);
