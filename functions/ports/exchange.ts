import type {
  CloseEvidence,
  OpenProtectiveOrders,
  PositionIdx,
  PositionRecheck,
  PositionSnapshot,
  TrackedPosition,
} from '#core/types.js';

/** The result of asking the venue to cancel one order. */
export type CancelOutcome =
  | { readonly status: 'cancelled'; readonly orderId: string }
  /** The venue says the order does not exist (filled, already cancelled): the goal is met. */
  | { readonly status: 'already-gone'; readonly orderId: string; readonly detail: string }
  | {
      readonly status: 'failed';
      readonly orderId: string;
      readonly detail: string;
      readonly exchangeCode?: number;
      /** Whether trying again later can succeed (rate limit, 5xx, timeout). */
      readonly retryable: boolean;
      /** Exchange time at which a rate limit resets, when the venue said. */
      readonly retryAt?: number;
    };

/**
 * One account's view of an exchange. Implementations never throw for exchange faults: every
 * failure comes back as an `unknown` result with a reason, so a fault can never read as "empty".
 * They may throw only for programming errors.
 */
export interface ExchangeSession {
  /** Every open position of the account, all pages. */
  fetchOpenPositions(): Promise<PositionSnapshot>;
  /** A targeted look at one position (the confirming re-check). */
  recheckPosition(symbol: string, positionIdx: PositionIdx): Promise<PositionRecheck>;
  /**
   * Fills that changed this position after the state in which it was last seen open, attributed
   * to the position (closed/opened quantities), up to now.
   */
  fetchPositionChanges(position: TrackedPosition): Promise<CloseEvidence>;
  /** The reduce-only / conditional orders resting on the exchange for this position. */
  fetchProtectiveOrders(symbol: string, positionIdx: PositionIdx): Promise<OpenProtectiveOrders>;
  cancelOrder(symbol: string, orderId: string): Promise<CancelOutcome>;
}
