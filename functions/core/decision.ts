import type {
  PositionChange,
  PositionIdx,
  PositionKey,
  PositionSide,
  ProtectiveOrder,
  SnapshotFailureReason,
} from './types.js';

/**
 * Every outcome of looking at one tracked position. Each carries a machine-readable `reason`, a
 * sentence for humans that states what was seen (never "cleaning up" when nothing proves a close),
 * whether it should page someone, and the ids of the evidence it rests on.
 */
export type Decision =
  | StillOpen
  | RaiseSuspect
  | Hold
  | AwaitConfirmation
  | KeepOrders
  | CancelOrphans
  | DeferCapSpent
  | StandDown
  | ResolveClosed
  | ProtectionShort
  | ProtectionRestored
  | StopPlacement;

export type DecisionKind = Decision['kind'];

interface DecisionBase {
  readonly key: PositionKey;
  readonly message: string;
  /** True when a person should look: the exchange disagrees with itself, or a safety bound was hit. */
  readonly alarm: boolean;
  /** Snapshots (position fetches) this decision rests on. */
  readonly snapshotIds: readonly string[];
}

/** The position is open: nothing to do, and any suspect is cleared. */
export interface StillOpen extends DecisionBase {
  readonly kind: 'still-open';
  /**
   * `present-in-final-recheck`: proven closed, cap slots taken, and the last look before the cancels
   * (a targeted re-check) shows it open: it reopened in between, so nothing is cancelled.
   */
  readonly reason: 'present-in-snapshot' | 'present-in-recheck' | 'present-in-final-recheck';
  /**
   * A suspect existed and the position turned out to be open: an earlier response was incomplete.
   * Counting these gives the exchange's glitch rate.
   */
  readonly incompleteResponseObserved: boolean;
}

/** Missing from a complete, believable snapshot: remember it and look again later. Nothing is touched. */
export interface RaiseSuspect extends DecisionBase {
  readonly kind: 'raise-suspect';
  readonly reason: 'absent-from-snapshot' | 'absent-in-persistent-mass-absence';
}

/** Missing from a snapshot that cannot be believed: conclude nothing at all. */
export interface Hold extends DecisionBase {
  readonly kind: 'hold';
  readonly reason: 'snapshot-unknown' | 'snapshot-distrusted';
}

/** A suspect that is not yet decided: try the confirmation again after `retryAfterMs`. */
export interface AwaitConfirmation extends DecisionBase {
  readonly kind: 'await-confirmation';
  readonly reason:
    | 'already-suspect'
    | 'confirm-overdue'
    | 'confirm-not-due'
    | 'recheck-unknown'
    | 'snapshot-unknown'
    | 'evidence-unknown'
    | 'orders-unknown'
    | 'orders-after-close'
    | 'awaiting-history'
    | 'recheck-not-listed';
  /** Why a look was unknown, when one was: `held-back` means nothing was sent (ours, not the venue's). */
  readonly failureReason?: SnapshotFailureReason;
  readonly retryAfterMs: number;
  /** The check phase sets this when the confirmation message looks lost and must be sent again. */
  readonly resendConfirmation: boolean;
}

/** Missing in every fetch but history shows no close: the venue disagrees with itself. Keep, alarm, retry. */
export interface KeepOrders extends DecisionBase {
  readonly kind: 'keep-orders';
  readonly reason:
    | 'no-close-evidence'
    | 'close-evidence-incomplete'
    | 'orders-placed-after-close'
    | 'not-listed-by-symbol';
  readonly orders: readonly ProtectiveOrder[];
  readonly changes: readonly PositionChange[];
  readonly retryAfterMs: number;
}

/**
 * Proven closed, cap slots taken: cancel exactly these orders. Its `message` states the orphans and
 * the proof ("2 orders (SL+TP) orphaned by …: it closed by …"); what came of the cancels is said once
 * they are done (`describeOutcome`).
 */
export interface CancelOrphans extends DecisionBase {
  readonly kind: 'cancel-orphans';
  readonly reason: 'closed-with-evidence';
  readonly orders: readonly ProtectiveOrder[];
  /**
   * Orphans beyond the cap slots granted: not cancelled now, so the suspect stays and a later attempt
   * (after it re-verifies everything) takes them. A position with more orders than a whole budget is
   * thus cleaned over several windows instead of never.
   */
  readonly ordersDeferred: number;
  readonly changes: readonly PositionChange[];
  /** Orders of unknown age: not provably the closed position's, so left alone. */
  readonly ordersLeftAlone: readonly ProtectiveOrder[];
}

/** Proven closed but the cancel cap is spent: keep the orders, alarm, retry in a later window. */
export interface DeferCapSpent extends DecisionBase {
  readonly kind: 'defer-cap-spent';
  readonly reason: 'cap-spent';
  readonly orders: readonly ProtectiveOrder[];
  readonly changes: readonly PositionChange[];
  readonly retryAfterMs: number;
}

/**
 * Verified, but the confirmation lost its right to act just before cancelling, so nothing is cancelled:
 * - `claim-lost`: the suspect changed hands (a check saw the position open and ended the suspect, or
 *   another delivery retook it after the lease); whoever holds it now owns the next step;
 * - `newer-state-registered`: the bot registered a state of the position newer than the one whose
 *   close was proven (a reopen whose fill history may not show yet); the suspect is void.
 */
export interface StandDown extends DecisionBase {
  readonly kind: 'stand-down';
  readonly reason: 'claim-lost' | 'newer-state-registered';
  readonly orders: readonly ProtectiveOrder[];
  readonly changes: readonly PositionChange[];
}

/** Nothing left to protect or cancel: stop tracking the position. */
export interface ResolveClosed extends DecisionBase {
  readonly kind: 'resolve-closed';
  readonly reason: 'closed-no-orders-left' | 'gone-no-orders-left';
  readonly changes: readonly PositionChange[];
  readonly ordersLeftAlone: readonly ProtectiveOrder[];
}

/**
 * The protection audit (core/protection.ts): a live position whose stops would close none
 * (`unprotected`) or only part (`underprotected`) of it, in 2 complete looks, past the grace. Alarms.
 */
export interface ProtectionShort extends DecisionBase {
  readonly kind: 'unprotected' | 'underprotected';
  readonly reason: 'stop-coverage-short';
  /** The share of the size its stops would close, "0" up to below "1". */
  readonly coveredShare: string;
  /** Exchange time of the first look that found it short. */
  readonly uncoveredSince: number;
}

/** An alarmed protection episode that ended: a stop is back, the position closed, or the bot says no stop is meant. */
export interface ProtectionRestored extends DecisionBase {
  readonly kind: 'protection-restored';
  readonly reason: 'stop-seen' | 'position-closed' | 'marked-intentional';
  readonly uncoveredSince: number;
}

/** A reduce-only, close-on-trigger market stop stopguard asks the venue to rest on a live position. */
export interface StopOrderRequest {
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  /** The side of the position it protects: the order itself sells a long, buys a short. */
  readonly positionSide: PositionSide;
  readonly qty: string;
  readonly triggerPrice: string;
  /** Deterministic per episode, with stopguard's prefix: a retry is refused as a duplicate, never placed twice. */
  readonly orderLinkId: string;
}

/**
 * Replace mode's answer to an unprotected position: what was placed, or why nothing was. Only `placed`
 * and `already-placed` are stops resting; every other reason leaves the alarm standing.
 */
export interface StopPlacement extends DecisionBase {
  readonly kind: 'place-stop';
  readonly reason:
    | 'placed'
    | 'already-placed'
    | 'shadow'
    | 'place-failed'
    | 'would-trigger-at-once'
    | 'no-stop-rule'
    | 'suspect-open'
    | 'cap-spent'
    /** A racing check (a duplicate delivery) took this episode's placement. */
    | 'raced';
  readonly request?: StopOrderRequest;
}

/**
 * What the confirmation needs next, in the order the core wants it (cheapest, most telling first):
 * looks at the exchange, a cap grant, then, right before any cancel, the renewal of its claim and one
 * last targeted re-check of the position.
 */
export type ConfirmationStep =
  | {
      readonly kind: 'need';
      readonly step: 'recheck' | 'snapshot' | 'evidence' | 'orders' | 'renew-claim' | 'final-recheck';
    }
  | { readonly kind: 'need'; readonly step: 'cap'; readonly slots: number };

/**
 * How renewing the claim right before cancelling went: `held`, or why the confirmation may no longer
 * act (see `StandDown`).
 */
export type ClaimRenewal = 'held' | StandDown['reason'];

/** What one cancel request came back with, for the audit trail. */
export interface CancelRecord {
  readonly orderId: string;
  /** `skipped-shadow`: shadow mode sent no request; a live run would have. */
  readonly status: 'cancelled' | 'already-gone' | 'failed' | 'skipped-shadow';
  readonly detail?: string;
}
