import type { PositionIdx, PositionKey } from './types.js';

/** A stable string id of a position within its account: `BTCUSDT#0`. */
export function positionId(symbol: string, positionIdx: PositionIdx): string {
  return `${symbol}#${positionIdx}`;
}

export function positionIdOf(key: Pick<PositionKey, 'symbol' | 'positionIdx'>): string {
  return positionId(key.symbol, key.positionIdx);
}

export function keyOf(key: PositionKey): PositionKey {
  return { accountId: key.accountId, symbol: key.symbol, positionIdx: key.positionIdx };
}
