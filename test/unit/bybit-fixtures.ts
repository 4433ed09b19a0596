import type { TrackedPosition } from '#core/types.js';

/**
 * Realistic Bybit V5 records for the adapter's unit tests, shaped like the examples in
 * bybit-exchange/docs. No real keys, accounts or order ids.
 */

export const T0 = 1_750_000_000_000;

/** The tracked position these records describe: the one-way BTCUSDT long of 0.5, last seen at T0. */
export function trackedBtcLong(over: Partial<TrackedPosition> = {}): TrackedPosition {
  return {
    accountId: 'acct-1',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    side: 'long',
    size: '0.5',
    lastSeenOpenAt: T0 + 1_000,
    lastSeenSnapshotId: 'snap-0',
    stateUpdatedAt: T0,
    stateSequence: 8_172_331_004,
    protectiveOrders: [],
    ...over,
  };
}

/** An entry of `GET /v5/position/list`, as the wire has it (before validation). */
export function rawPosition(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    positionIdx: 0,
    riskId: 1,
    riskLimitValue: '2000000',
    symbol: 'BTCUSDT',
    side: 'Buy',
    size: '0.5',
    avgPrice: '64000.5',
    positionValue: '32000.25',
    tradeMode: 0,
    positionStatus: 'Normal',
    autoAddMargin: 0,
    adlRankIndicator: 2,
    leverage: '10',
    positionBalance: '3200.03',
    markPrice: '64100',
    liqPrice: '58000.1',
    bustPrice: '',
    positionMM: '160.1',
    positionIM: '3200.03',
    tpslMode: 'Full',
    takeProfit: '0',
    stopLoss: '62000',
    trailingStop: '0',
    unrealisedPnl: '49.75',
    curRealisedPnl: '-17.6',
    cumRealisedPnl: '-17.6',
    seq: 8_172_331_004,
    isReduceOnly: false,
    mmrSysUpdatedTime: '',
    leverageSysUpdatedTime: '',
    sessionAvgPrice: '',
    createdTime: String(T0 - 86_400_000),
    updatedTime: String(T0),
    ...over,
  };
}

/** An entry of `GET /v5/execution/list`, as the wire has it. */
export function rawExecution(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    symbol: 'BTCUSDT',
    orderType: 'Market',
    underlyingPrice: '',
    orderLinkId: '',
    side: 'Sell',
    indexPrice: '',
    orderId: 'a1b2c3d4-0000-4000-8000-000000000001',
    stopOrderType: 'UNKNOWN',
    leavesQty: '0',
    execTime: String(T0 + 60_000),
    feeCurrency: '',
    isMaker: false,
    execFee: '17.6',
    feeRate: '0.00055',
    execId: 'e0cbe81d-0f18-5866-9415-cf319b5dab01',
    tradeIv: '',
    blockTradeId: '',
    markPrice: '63900',
    execPrice: '63890.5',
    markIv: '',
    orderQty: '0.5',
    orderPrice: '60695.9',
    execValue: '31945.25',
    execType: 'Trade',
    execQty: '0.5',
    closedSize: '0.5',
    extraFees: '',
    createType: 'CreateByUser',
    seq: 8_172_331_010,
    ...over,
  };
}

/** An entry of `GET /v5/order/realtime`, as the wire has it: a position stop-loss by default. */
export function rawOrder(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderId: 'f00dfeed-0000-4000-8000-000000000001',
    orderLinkId: '',
    blockTradeId: '',
    symbol: 'BTCUSDT',
    price: '0',
    qty: '0',
    side: 'Sell',
    isLeverage: '',
    positionIdx: 0,
    orderStatus: 'Untriggered',
    cancelType: 'UNKNOWN',
    rejectReason: 'EC_NoError',
    avgPrice: '',
    leavesQty: '0',
    leavesValue: '0',
    cumExecQty: '0',
    cumExecValue: '0',
    cumExecFee: '0',
    timeInForce: 'IOC',
    orderType: 'Market',
    stopOrderType: 'StopLoss',
    orderIv: '',
    triggerPrice: '62000',
    takeProfit: '',
    stopLoss: '',
    tpTriggerBy: '',
    slTriggerBy: '',
    triggerDirection: 2,
    triggerBy: 'MarkPrice',
    lastPriceOnCreated: '64000',
    reduceOnly: true,
    closeOnTrigger: true,
    smpType: 'None',
    smpGroup: 0,
    smpOrderId: '',
    tpslMode: 'Full',
    tpLimitPrice: '',
    slLimitPrice: '',
    placeType: '',
    createdTime: String(T0 - 30_000),
    updatedTime: String(T0 - 30_000),
    ...over,
  };
}
