/**
 * One account inside the simulated exchange (keys, position mode, positions, orders, trade history),
 * and the position-mode rules that decide which position index an operation addresses.
 */

import type {
  PositionIdx,
  PositionMode,
  Side,
  SimClosedPnl,
  SimExecution,
  SimOrder,
  SimPosition,
} from './types.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface AccountState {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly positionMode: PositionMode;
  /** By `positionKey`; a position stays here, flat, once it has existed. */
  readonly positions: Map<string, Mutable<SimPosition>>;
  /** In placement order: the order in which resting orders fire. */
  readonly orders: Mutable<SimOrder>[];
  readonly ordersById: Map<string, Mutable<SimOrder>>;
  readonly executions: SimExecution[];
  readonly closedPnl: SimClosedPnl[];
}

/** An account's identity and keys, without its state. */
export interface AccountInfo {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly positionMode: PositionMode;
}

export const positionKey = (symbol: string, idx: PositionIdx) => `${symbol}#${idx}`;

export function accountInfo(account: AccountState): AccountInfo {
  return {
    id: account.id,
    apiKey: account.apiKey,
    apiSecret: account.apiSecret,
    positionMode: account.positionMode,
  };
}

/** A position that has never traded: what Bybit answers for a symbol and index with nothing on it. */
export function flatPosition(
  accountId: string,
  symbol: string,
  positionIdx: PositionIdx,
): Mutable<SimPosition> {
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

/** Orders positions by symbol, then index. */
export function byPositionKey(a: SimPosition, b: SimPosition): number {
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.positionIdx - b.positionIdx;
}

/** The index a market order of `side` opens or adds to: 0 in one-way mode, the side's leg in hedge mode. */
export function positionIdxForOpen(
  account: AccountState,
  side: Side,
  idx: PositionIdx | undefined,
): PositionIdx {
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

/**
 * The index of an existing position an operation addresses. In hedge mode an omitted index is
 * accepted only when exactly one leg of the symbol is open.
 */
export function positionIdxForExisting(
  account: AccountState,
  symbol: string,
  idx: PositionIdx | undefined,
): PositionIdx {
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
