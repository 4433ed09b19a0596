/**
 * The domain model of stopguard. Exchange-agnostic: nothing here knows Bybit or AWS.
 *
 * Times are epoch milliseconds on the exchange's clock where the exchange gives one (server time of
 * a response, time of a fill), so that "after it was last seen" compares like with like.
 * Quantities are decimal strings exactly as the exchange wrote them; arithmetic goes through
 * `quantity.ts` so that "0.001" never becomes 0.0009999.
 */

export type AccountId = string;

/**
 * Which position of a symbol: 0 is one-way mode, 1 the long leg and 2 the short leg in hedge mode
 * (Bybit's `positionIdx`; other venues map onto the same three values).
 */
export type PositionIdx = 0 | 1 | 2;

export type PositionSide = 'long' | 'short';

/** Identifies one position of one account. */
export interface PositionKey {
  readonly accountId: AccountId;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
}

export type ProtectiveOrderKind = 'stop-loss' | 'take-profit' | 'trailing-stop' | 'reduce-only';

/** An order whose only job is to close (part of) a position: the thing we must never strip off a live one. */
export interface ProtectiveOrder {
  readonly orderId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly kind: ProtectiveOrderKind;
  /** Trigger price for conditional orders, for the audit trail; absent for plain reduce-only limits. */
  readonly triggerPrice?: string;
  /**
   * How much of the position the order closes when it triggers: absent when it closes the whole
   * position whatever its size (a position-level stop, close-on-trigger without a size).
   */
  readonly qty?: string;
  /**
   * Which way the market must move for a conditional order to trigger: `fall` for a long's stop, `rise`
   * for a short's. Absent for orders without a trigger.
   */
  readonly triggersOn?: 'rise' | 'fall';
  /**
   * When the venue accepted the order. Only orders placed before the close are provably the closed
   * position's orphans: an order placed after it may protect a position reopened a moment ago.
   */
  readonly createdAt?: number;
}

/**
 * The protection a positions list shows on the position itself (Bybit: `stopLoss`, `trailingStop` in
 * the default Full TP/SL mode), each covering the whole position, and the prices a replacement stop is
 * computed from. Stops placed as orders (Bybit's Partial mode, reduce-only conditionals) are not here.
 */
export interface PositionLevelProtection {
  /** Trigger price of the position's stop-loss; absent when it has none. */
  readonly stopLoss?: string;
  /** Trailing-stop distance; absent when it has none. */
  readonly trailingStop?: string;
  readonly markPrice?: string;
  readonly entryPrice?: string;
}

/** A position as one exchange response showed it open. */
export interface ObservedPosition {
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly side: PositionSide;
  readonly size: string;
  /**
   * When the exchange last changed this position (Bybit `updatedTime`). Fills after this moment are
   * not yet reflected in `size`.
   */
  readonly updatedAt: number;
  /**
   * The exchange's per-symbol sequence number of this position state (Bybit `seq`), when it has one.
   * Fills with a higher sequence happened after this state: a clock-free ordering.
   */
  readonly sequence?: number;
  /** What the list said about its stops; absent when the venue's list does not say (orders decide). */
  readonly protection?: PositionLevelProtection;
}

/** A position stopguard is responsible for: what was last seen of it, and when. */
export interface TrackedPosition extends PositionKey {
  readonly side: PositionSide;
  /** Size when last seen open. */
  readonly size: string;
  /** Exchange time of the response that last showed it open. */
  readonly lastSeenOpenAt: number;
  /** Id of the snapshot that last showed it open, for the audit trail. */
  readonly lastSeenSnapshotId: string;
  /** The exchange's own timestamp of that position state (see ObservedPosition.updatedAt). */
  readonly stateUpdatedAt: number;
  readonly stateSequence?: number;
  /** Protective orders known for it (registered by the bot or seen on the exchange). */
  readonly protectiveOrders: readonly ProtectiveOrder[];
}

/** Why a snapshot cannot be trusted as the whole truth. */
export type SnapshotFailureReason =
  | 'http-error'
  | 'timeout'
  | 'rate-limited'
  /**
   * The exchange refused the fleet's egress address for a while (Bybit: HTTP 403 over 600 requests
   * per 5 s per IP, at least 10 minutes): every account is paused, not just this one.
   */
  | 'ip-banned'
  /**
   * Not sent at all: the fleet's own request budget was spent or the fleet is paused. Retried at
   * `retryAt` like a rate limit, but ours, not the exchange's.
   */
  | 'held-back'
  | 'exchange-error'
  | 'schema-mismatch'
  /** A cursor that repeats: the walk itself is broken. */
  | 'cursor-loop'
  /**
   * Still a next cursor after the most pages one listing may take: a listing too big to walk in one go
   * (a busy account's fills or a grid's orders) or a runaway cursor. A narrower filter may reach its end.
   */
  | 'page-limit'
  | 'auth-error'
  | 'clock-skew';

export interface SnapshotFailure {
  readonly reason: SnapshotFailureReason;
  /** Human detail: the exchange's code and message, the page that failed. Never contains secrets. */
  readonly detail: string;
  readonly exchangeCode?: number;
  /** Earliest exchange time at which asking again makes sense (rate-limit reset), when the venue said. */
  readonly retryAt?: number;
}

/**
 * One fetch of an account's open positions.
 *
 * `complete` means every page arrived without error and matched the schema. It does NOT mean the
 * list is true: the incident was a complete-looking list with positions missing. That is why a
 * missing position is only ever a suspect.
 *
 * `unknown` is never "no positions": the positions it does carry were seen open (presence is
 * evidence), but nothing may be concluded from what it lacks.
 */
export type PositionSnapshot =
  | {
      readonly status: 'complete';
      readonly snapshotId: string;
      readonly fetchedAt: number;
      readonly pages: number;
      readonly positions: readonly ObservedPosition[];
    }
  | {
      readonly status: 'unknown';
      readonly snapshotId: string;
      readonly fetchedAt: number;
      readonly pages: number;
      readonly positions: readonly ObservedPosition[];
      readonly failure: SnapshotFailure;
    };

/**
 * One targeted look at a symbol, every leg of it at once: what a by-symbol query answered. A venue that
 * lists a flat leg with an explicit size 0 gives it in `flat`: a positive sign of a close, stronger than
 * mere absence. `unknown` keeps the legs it did see open (presence is evidence).
 */
export type SymbolRecheck =
  | {
      readonly status: 'listed';
      readonly checkedAt: number;
      readonly open: readonly ObservedPosition[];
      readonly flat: readonly PositionIdx[];
    }
  | {
      readonly status: 'unknown';
      readonly checkedAt: number;
      readonly open: readonly ObservedPosition[];
      readonly failure: SnapshotFailure;
    };

/** The confirming look at one position (one leg of a `SymbolRecheck`). */
export type PositionRecheck =
  | { readonly status: 'open'; readonly checkedAt: number; readonly position: ObservedPosition }
  | { readonly status: 'flat'; readonly checkedAt: number }
  | { readonly status: 'absent'; readonly checkedAt: number }
  | { readonly status: 'unknown'; readonly checkedAt: number; readonly failure: SnapshotFailure };

export type PositionChangeSource = 'execution' | 'closed-pnl' | 'order-history';

export type CloseKind =
  | 'stop-loss'
  | 'take-profit'
  | 'trailing-stop'
  | 'liquidation'
  | 'auto-deleverage'
  | 'manual'
  | 'settlement'
  | 'other';

/**
 * One fill (or venue record) that changed a position, already attributed to that position by the
 * adapter: `closedQty` reduced it, `openedQty` added to it (a one-way flip does both).
 */
export interface PositionChange {
  readonly id: string;
  readonly source: PositionChangeSource;
  readonly time: number;
  readonly sequence?: number;
  readonly closedQty: string;
  readonly openedQty: string;
  readonly kind: CloseKind;
  readonly orderId?: string;
}

/**
 * What the exchange's history says happened to a position since a given state.
 * `unknown` (a failed or partial history fetch) is never "nothing happened".
 */
export type CloseEvidence =
  | {
      readonly status: 'known';
      readonly searchedFrom: number;
      readonly searchedTo: number;
      readonly changes: readonly PositionChange[];
    }
  | { readonly status: 'unknown'; readonly searchedFrom: number; readonly failure: SnapshotFailure };

/** The protective orders currently resting on the exchange for a position. */
export type OpenProtectiveOrders =
  | { readonly status: 'known'; readonly orders: readonly ProtectiveOrder[] }
  | { readonly status: 'unknown'; readonly failure: SnapshotFailure };

/** A position seen missing, waiting for a delayed second look. Stored durably between invocations. */
export interface SuspectRecord extends PositionKey {
  /** The position as last seen open: the state the evidence must account for. */
  readonly position: TrackedPosition;
  /** Snapshot in which it was first missing. */
  readonly firstMissingSnapshotId: string;
  readonly firstMissingAt: number;
  /** Confirmation attempts so far (each a delayed second look). */
  readonly attempts: number;
  /** Complete lists that lacked it, the first included: what "absent in N fetches" counts. */
  readonly missingLooks: number;
  /** Exchange time of the last of those lists. */
  readonly lastMissingAt: number;
  /**
   * Ids of the first and the last few of those lists (`boundedIds`), for the audit trail; the ones
   * between are only counted. A suspect retried for days must stay a small item.
   */
  readonly missingSnapshotIds: readonly string[];
  /** When the next confirmation is due; a check that finds it long overdue re-sends it (lost message). */
  readonly nextAttemptAt: number;
  /**
   * Set while a confirmation holds the suspect, cleared when that attempt finishes. It tells a lapsed
   * claim (the worker died: retake it) from a finished attempt (a late duplicate: do nothing), and it
   * is the claim's token: a worker whose lease lapsed and was retaken cannot overwrite the newer state.
   */
  readonly claimedUntil?: number;
  /**
   * When it became stuck: undecided after `stuckAfterAttempts` attempts or `stuckAfterMs` since it went
   * missing. From then on it is looked at every `stuckLookMs` (alarmed once), until evidence arrives or
   * an operator retries or forgets it.
   */
  readonly stuckSince?: number;
  /**
   * Where the stuck bounds count from when an operator asked for a fresh start (`npx stopguard retry`):
   * the attempts made and the time by then. Absent: from the first attempt and the first miss.
   */
  readonly stuckCountFrom?: { readonly attempts: number; readonly at: number };
}

/** What the cancel cap said when asked for slots. */
export type CapVerdict =
  | { readonly status: 'granted'; readonly windowId: string; readonly slots: number }
  | {
      readonly status: 'refused';
      readonly windowId: string;
      readonly scope: 'account' | 'global';
      readonly limit: number;
    };
