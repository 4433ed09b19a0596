import type { StopOrderRequest } from '#core/decision.js';
import type {
  CloseEvidence,
  OpenProtectiveOrders,
  PositionSnapshot,
  SnapshotFailure,
  SnapshotFailureReason,
  SymbolRecheck,
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
      /** Why, when it is one of the failures the orchestration acts on (an `ip-banned` pauses the fleet). */
      readonly reason?: SnapshotFailureReason;
      readonly exchangeCode?: number;
      /** Whether trying again later can succeed (rate limit, 5xx, timeout). */
      readonly retryable: boolean;
      /** Exchange time at which a rate limit resets, when the venue said. */
      readonly retryAt?: number;
    };

/** The result of asking the venue to rest a stop (replace mode). */
export type PlaceStopOutcome =
  | {
      readonly status: 'placed';
      readonly orderId: string;
      /** The trigger as placed, when the venue's price rules (its tick) moved the one asked for. */
      readonly triggerPrice?: string;
    }
  /** The venue already holds an order with this `orderLinkId`: an earlier attempt placed it. */
  | { readonly status: 'already-placed'; readonly detail: string }
  | {
      readonly status: 'failed';
      readonly detail: string;
      readonly reason?: SnapshotFailureReason;
      readonly exchangeCode?: number;
    };

/** A cancel that did not happen, for `failure`: its reason, code and reset time carried over. */
export function failedCancel(orderId: string, failure: SnapshotFailure, retryable: boolean): CancelOutcome {
  return {
    status: 'failed',
    orderId,
    detail: failure.detail,
    reason: failure.reason,
    ...(failure.exchangeCode === undefined ? {} : { exchangeCode: failure.exchangeCode }),
    retryable,
    ...(failure.retryAt === undefined ? {} : { retryAt: failure.retryAt }),
  };
}

/**
 * One account's view of an exchange. Implementations never throw for exchange faults: every
 * failure comes back as an `unknown` result with a reason, so a fault can never read as "empty".
 * They may throw only for programming errors. Each method is one look, however many positions it
 * serves (a confirmation pass shares them among all the suspects of its account), though a look may
 * take several listings when one would be too big to walk (see the Bybit adapter).
 */
export interface ExchangeSession {
  /** Every open position of the account, all pages. */
  fetchOpenPositions(): Promise<PositionSnapshot>;
  /** A targeted look at one symbol, every leg of it (the confirming re-checks). */
  recheckSymbol(symbol: string): Promise<SymbolRecheck>;
  /**
   * Fills that changed these positions after the states in which they were last seen open, each
   * attributed to its position (closed/opened quantities), up to now, keyed by `positionIdOf`,
   * reaching back to the earliest of those states. Each position has its own answer: one may be
   * `unknown` while others are known.
   */
  fetchPositionChanges(positions: readonly TrackedPosition[]): Promise<ReadonlyMap<string, CloseEvidence>>;
  /**
   * Every reduce-only or conditional order resting on the account. With `symbols`, the answer need
   * only be complete for those symbols (it may hold others): an adapter may then list by symbol, which
   * a grid's thousands of orders on another symbol do not page into.
   */
  fetchProtectiveOrders(symbols?: readonly string[]): Promise<OpenProtectiveOrders>;
  cancelOrder(symbol: string, orderId: string): Promise<CancelOutcome>;
  /**
   * Rests a reduce-only, close-on-trigger market stop (replace mode). Never resent by the adapter: the
   * request's `orderLinkId` makes a later attempt safe instead.
   */
  placeStop(request: StopOrderRequest): Promise<PlaceStopOutcome>;
}
