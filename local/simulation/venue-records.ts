/** The simulated venue's internal records, and how a session reports them in the domain's types. */

import type {
  ObservedPosition,
  PositionChange,
  PositionIdx,
  PositionSide,
  ProtectiveOrder,
} from '#core/types.js';

/** An open position; it is deleted when it closes. */
export interface VenuePosition {
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  side: PositionSide;
  size: number;
  updatedAt: number;
  sequence: number;
}

/** A resting protective order, with the account it belongs to. */
export interface VenueOrder extends ProtectiveOrder {
  readonly accountId: string;
}

/** A fill in an account's history; `visibleAt` is when history starts to show it (history lag). */
export interface VenueFill extends PositionChange {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  /** The order's side: a Buy opens a long or closes a short. */
  readonly side: 'Buy' | 'Sell';
  readonly visibleAt: number;
}

/**
 * A position as a session reports it. A resting stop-loss shows as the position's own stop (Bybit's
 * default Full mode lists it on the position), so coverage needs no order listing; prices are nominal.
 */
export function observed(p: VenuePosition, hasStop = false): ObservedPosition {
  return {
    symbol: p.symbol,
    positionIdx: p.positionIdx,
    side: p.side,
    size: String(p.size),
    updatedAt: p.updatedAt,
    sequence: p.sequence,
    protection: {
      markPrice: '100',
      entryPrice: '100',
      ...(hasStop ? { stopLoss: p.side === 'long' ? '90' : '110' } : {}),
    },
  };
}

/** An order as a session reports it, without the venue's account bookkeeping. */
export function stripAccount({ accountId: _accountId, ...order }: VenueOrder): ProtectiveOrder {
  return order;
}

/** Exchange calls by endpoint, as the venue counts them for cost figures. */
export interface VenueCalls {
  list: number;
  recheck: number;
  history: number;
  /** Closed-PnL listings, read only when a fill comes without `closedSize`. */
  closedPnl: number;
  orders: number;
  cancel: number;
  /** Stops placed by replace mode. */
  place: number;
}
