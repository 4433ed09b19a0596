/**
 * The exchange's records in Bybit V5's wire shapes. Typed against the SDK's own response types, so a field
 * the SDK expects cannot go missing; overridden where Bybit really sends something the SDK type omits
 * (`""`/`"UNKNOWN"` stop order types, `triggerDirection` 0 on plain orders, `createType` on executions).
 */

import Big from 'big.js';
import type { AccountOrderV5, ClosedPnLV5, ExecutionV5, PositionV5 } from 'bybit-api';
import {
  RESTING_STATUSES,
  type SimClosedPnl,
  type SimExecution,
  type SimOrder,
  type SimPosition,
} from './types.js';

export type WirePosition = PositionV5;
export type WireExecution = Omit<ExecutionV5, 'stopOrderType' | 'orderType'> & {
  stopOrderType: ExecutionV5['stopOrderType'] | 'UNKNOWN' | '';
  /** `UNKNOWN` on funding rows. */
  orderType: ExecutionV5['orderType'] | 'UNKNOWN';
  createType: string;
};
export type WireClosedPnl = ClosedPnLV5;
export type WireOrder = Omit<
  AccountOrderV5,
  | 'stopOrderType'
  | 'triggerDirection'
  | 'marketUnit'
  | 'ocoTriggerType'
  | 'triggerBy'
  | 'tpTriggerBy'
  | 'slTriggerBy'
> & {
  stopOrderType: AccountOrderV5['stopOrderType'] | '';
  triggerDirection: 0 | 1 | 2;
  marketUnit: '';
  ocoTriggerBy: '';
  triggerBy: AccountOrderV5['triggerBy'] | '';
  tpTriggerBy: '';
  slTriggerBy: '';
};

const fmt = (value: Big) => value.toFixed();

/** The leverage every simulated position reports (margins are derived from it, never enforced). */
const LEVERAGE = '10';

/**
 * `markPrice` is the symbol's current price; `protective` the account's orders on this position, from
 * which the position's own `stopLoss` / `takeProfit` / `trailingStop` fields (Full mode) are read.
 */
export function toWirePosition(
  p: SimPosition,
  markPrice: string | undefined,
  protective: readonly SimOrder[],
): WirePosition {
  const open = p.side !== '';
  const mark = markPrice ?? (open ? p.avgPrice : '0');
  const value = new Big(p.size).times(open ? p.avgPrice : '0');
  const direction = p.side === 'Sell' ? -1 : 1;
  const unrealised = open ? new Big(mark).minus(p.avgPrice).times(p.size).times(direction) : new Big(0);
  const im = value.div(LEVERAGE);
  const mm = value.times('0.005');
  const fullOrder = (stopOrderType: string) =>
    open
      ? protective.find(
          (o) =>
            o.stopOrderType === stopOrderType && o.tpslMode === 'Full' && RESTING_STATUSES.has(o.orderStatus),
        )
      : undefined;
  return {
    positionIdx: p.positionIdx,
    riskId: 1,
    riskLimitValue: '2000000',
    symbol: p.symbol,
    side: p.side,
    size: p.size,
    avgPrice: p.avgPrice,
    positionValue: fmt(value),
    tradeMode: 0,
    autoAddMargin: 0,
    positionStatus: 'Normal',
    leverage: LEVERAGE,
    breakEvenPrice: open ? p.avgPrice : '',
    markPrice: mark,
    liqPrice: '',
    bustPrice: '',
    positionIM: fmt(im),
    positionMM: fmt(mm),
    positionIMByMp: fmt(im),
    positionMMByMp: fmt(mm),
    positionBalance: fmt(im),
    tpslMode: 'Full',
    takeProfit: fullOrder('TakeProfit')?.triggerPrice ?? '',
    stopLoss: fullOrder('StopLoss')?.triggerPrice ?? '',
    trailingStop: fullOrder('TrailingStop')?.trailingDistance ?? '0',
    sessionAvgPrice: '',
    unrealisedPnl: fmt(unrealised.round(8)),
    curRealisedPnl: p.curRealisedPnl,
    cumRealisedPnl: p.cumRealisedPnl,
    adlRankIndicator: open ? 2 : 0,
    isReduceOnly: false,
    mmrSysUpdatedTime: '',
    leverageSysUpdatedTime: '',
    createdTime: String(p.createdTime),
    updatedTime: String(p.updatedTime),
    openTime: p.openTime,
    seq: p.seq,
  };
}

/**
 * `blankClosedSize`: answer `closedSize: ""` (the docs' example since 2023-04, the `blankClosedSize`
 * fault) instead of the amount closed; funding rows keep theirs.
 */
export function toWireExecution(e: SimExecution, blankClosedSize = false): WireExecution {
  return {
    symbol: e.symbol,
    orderId: e.orderId,
    orderLinkId: '',
    side: e.side,
    orderPrice: e.orderPrice,
    orderQty: e.orderQty,
    leavesQty: e.leavesQty,
    createType: e.createType,
    orderType: e.orderType,
    stopOrderType: e.stopOrderType === '' ? 'UNKNOWN' : e.stopOrderType,
    execFee: e.execFee,
    execFeeV2: '',
    feeCurrency: 'USDT',
    execId: e.execId,
    execPrice: e.execPrice,
    execQty: e.execQty,
    execType: e.execType,
    execValue: e.execValue,
    execTime: String(e.execTime),
    isMaker: e.isMaker,
    feeRate: e.feeRate,
    tradeIv: '',
    markIv: '',
    markPrice: e.markPrice,
    indexPrice: '',
    underlyingPrice: '',
    blockTradeId: '',
    closedSize: blankClosedSize && e.execType !== 'Funding' ? '' : e.closedSize,
    seq: e.seq,
    extraFees: '',
  };
}

export function toWireClosedPnl(c: SimClosedPnl): WireClosedPnl {
  return {
    symbol: c.symbol,
    orderId: c.orderId,
    side: c.side,
    qty: c.qty,
    orderPrice: c.orderPrice,
    orderType: c.orderType,
    execType: c.execType,
    closedSize: c.closedSize,
    openFee: c.openFee,
    closeFee: c.closeFee,
    cumEntryValue: c.cumEntryValue,
    avgEntryPrice: c.avgEntryPrice,
    cumExitValue: c.cumExitValue,
    avgExitPrice: c.avgExitPrice,
    closedPnl: c.closedPnl,
    fillCount: '1',
    leverage: LEVERAGE,
    createdTime: String(c.createdTime),
    updatedTime: String(c.createdTime),
  };
}

export function toWireOrder(o: SimOrder): WireOrder {
  const conditional = o.triggerPrice !== '';
  const leaves = RESTING_STATUSES.has(o.orderStatus) ? o.qty : '0';
  return {
    orderId: o.orderId,
    orderLinkId: o.orderLinkId,
    parentOrderLinkId: '',
    blockTradeId: '',
    symbol: o.symbol,
    price: o.price,
    qty: o.qty,
    side: o.side,
    isLeverage: '0',
    positionIdx: o.positionIdx,
    orderStatus: o.orderStatus,
    createType: o.createType,
    cancelType: o.cancelType,
    rejectReason: 'EC_NoError',
    avgPrice: o.avgPrice,
    leavesQty: leaves,
    leavesValue: fmt(new Big(leaves).times(o.price === '0' ? o.triggerPrice || '0' : o.price)),
    cumExecQty: o.cumExecQty,
    cumExecValue: o.cumExecValue,
    cumExecFee: o.cumExecFee,
    timeInForce: o.orderType === 'Market' ? 'IOC' : 'GTC',
    orderType: o.orderType,
    stopOrderType: o.stopOrderType,
    orderIv: '',
    marketUnit: '',
    slippageToleranceType: 'UNKNOWN',
    slippageTolerance: '0',
    triggerPrice: conditional ? o.triggerPrice : '0',
    takeProfit: '0',
    stopLoss: '0',
    tpslMode: o.tpslMode,
    ocoTriggerBy: '',
    tpLimitPrice: '0',
    slLimitPrice: '0',
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: conditional ? o.crossDirection : 0,
    triggerBy: conditional ? 'LastPrice' : '',
    lastPriceOnCreated: o.lastPriceOnCreated,
    basePrice: '',
    reduceOnly: o.reduceOnly,
    closeOnTrigger: o.closeOnTrigger,
    placeType: '',
    smpType: 'None',
    smpGroup: '0',
    smpOrderId: '',
    createdTime: String(o.createdTime),
    updatedTime: String(o.updatedTime),
    extraFees: '',
  };
}
