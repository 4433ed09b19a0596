import type { ReconcileConfig } from './config.js';
import type { ClaimRenewal, ConfirmationStep, Decision } from './decision.js';
import { accountForClose, isSameState, ordersOf, partitionOrphans } from './evidence.js';
import { positionIdOf } from './keys.js';
import {
  clockTime,
  describeCloses,
  describeFetches,
  describeOrders,
  describePosition,
  seconds,
} from './narrate.js';
import { reappeared } from './snapshot.js';
import type {
  CapVerdict,
  CloseEvidence,
  OpenProtectiveOrders,
  PositionRecheck,
  PositionSnapshot,
  SnapshotFailure,
  SuspectRecord,
} from './types.js';

/** Everything fetched so far for one confirmation; absent fields have not been fetched yet. */
export interface ConfirmationInput {
  readonly suspect: SuspectRecord;
  /** Our clock, for retry bookkeeping. */
  readonly now: number;
  readonly config: ReconcileConfig;
  readonly recheck?: PositionRecheck;
  readonly snapshot?: PositionSnapshot;
  readonly evidence?: CloseEvidence;
  readonly orders?: OpenProtectiveOrders;
  readonly cap?: CapVerdict;
  /** The claim renewed right before cancelling (a conditional write that also checks the ledger). */
  readonly renewal?: ClaimRenewal;
  /** The last look before the cancels: a targeted re-check, after the cap and the renewal. */
  readonly finalRecheck?: PositionRecheck;
  /**
   * A random draw in [0, 1) that spreads the next look over its back-off window, so suspects that
   * failed together do not retry together. Default 1: the whole window, no spread.
   */
  readonly jitter?: number;
}

/**
 * The delayed second look at a suspect. Returns either a final decision or the next thing to fetch;
 * the caller fetches it and calls again. The order is the core's: the cheap targeted re-check first
 * (it clears almost every false suspect in one call), then the full list, then history, then the
 * resting orders, then a cap slot. Nothing is cancelled unless all of these agree:
 * 1. a targeted re-check lists the position flat, and
 * 2. a complete list, at least `confirmDelayMs` after the first miss, lacks it too, and
 * 3. fills after its last seen state close its whole size, and
 * 4. the orders to cancel were placed before that close, and
 * 5. the cancel cap granted a slot for each, and
 * 6. the claim is still this confirmation's, and the bot registered no newer state of the position, and
 * 7. a last targeted re-check, the final exchange call before the cancels, lists it flat.
 */
export function decideConfirmation(input: ConfirmationInput): Decision | ConfirmationStep {
  const { suspect, config, now } = input;
  const position = suspect.position;
  const key = { accountId: suspect.accountId, symbol: suspect.symbol, positionIdx: suspect.positionIdx };
  const what = describePosition(position.symbol, position.side, position.positionIdx);
  const jitter = input.jitter ?? 1;
  const retryAfterMs = retryDelay(suspect.attempts, config, jitter);
  const waitFor = (
    reason: Extract<Decision, { kind: 'await-confirmation' }>['reason'],
    message: string,
    failure?: SnapshotFailure,
    snapshotIds: readonly string[] = suspect.missingSnapshotIds,
  ): Decision => ({
    kind: 'await-confirmation',
    reason,
    key,
    alarm: false,
    ...(failure === undefined ? {} : { failureReason: failure.reason }),
    retryAfterMs: honourRetryAt(retryAfterMs, failure, now, jitter),
    resendConfirmation: false,
    snapshotIds,
    message: `${what}: ${message}; will look again in ${seconds(honourRetryAt(retryAfterMs, failure, now, jitter))}. No order touched`,
  });

  const { recheck } = input;
  if (recheck === undefined) return { kind: 'need', step: 'recheck' };
  if (recheck.status === 'open') {
    return reappeared(what, key, suspect, recheck.position, 'a direct re-check', 'present-in-recheck');
  }
  if (recheck.status === 'unknown') {
    return waitFor('recheck-unknown', couldNot('the re-check', recheck.failure), recheck.failure);
  }

  const { snapshot } = input;
  if (snapshot === undefined) return { kind: 'need', step: 'snapshot' };
  const snapshotIds = [...suspect.missingSnapshotIds, snapshot.snapshotId];
  const inList = snapshot.positions.find((p) => positionIdOf(p) === positionIdOf(position));
  if (inList !== undefined) {
    // The re-check said it was not open, yet the list shows it: one of them is wrong, so touch nothing.
    return reappeared(what, key, suspect, inList, `snapshot ${snapshot.snapshotId}`, 'present-in-snapshot');
  }
  if (snapshot.status === 'unknown') {
    return waitFor(
      'snapshot-unknown',
      `the confirming list ${snapshot.snapshotId} is incomplete (${snapshot.failure.reason})`,
      snapshot.failure,
      snapshotIds,
    );
  }
  const firstMissingAt = suspect.firstMissingAt;
  if (snapshot.fetchedAt - firstMissingAt < config.confirmDelayMs) {
    // Two fetches too close together can share one glitch: they are not two independent looks.
    return waitFor(
      'confirm-not-due',
      `the confirming list came only ${seconds(snapshot.fetchedAt - firstMissingAt)} after the first miss`,
      undefined,
      snapshotIds,
    );
  }
  const fetches = describeFetches(suspect.missingLooks + 1, firstMissingAt, snapshot.fetchedAt);

  const { evidence } = input;
  if (evidence === undefined) return { kind: 'need', step: 'evidence' };
  if (evidence.status === 'unknown') {
    return waitFor(
      'evidence-unknown',
      `${fetches}, re-check ${recheck.status}, but ${couldNot('the history fetch', evidence.failure)}`,
      evidence.failure,
      snapshotIds,
    );
  }
  const accounting = accountForClose(position, evidence.changes);
  const withinGrace = evidence.searchedTo - firstMissingAt < config.evidenceGraceMs;

  const { orders } = input;
  if (!accounting.closed) {
    // History may lag the close: inside the grace period a missing close event is not yet a disagreement.
    if (withinGrace) {
      return waitFor(
        'awaiting-history',
        `${fetches} but no close event since ${clockTime(position.stateUpdatedAt)} yet (history can lag)`,
        undefined,
        snapshotIds,
      );
    }
    if (orders === undefined) return { kind: 'need', step: 'orders' };
    if (orders.status === 'unknown') {
      return waitFor(
        'orders-unknown',
        couldNot('listing its orders', orders.failure),
        orders.failure,
        snapshotIds,
      );
    }
    const resting = ordersOf(position, orders.orders);
    if (resting.length === 0) {
      return {
        kind: 'resolve-closed',
        reason: 'gone-no-orders-left',
        key,
        alarm: false,
        changes: accounting.changes,
        ordersLeftAlone: [],
        snapshotIds,
        message: `stopped tracking ${what}: ${fetches}, no close event since ${clockTime(position.stateUpdatedAt)}, and no protective order rests for it, so there is nothing to keep or cancel`,
      };
    }
    const partial = accounting.changes.length > 0;
    return {
      kind: 'keep-orders',
      reason: partial ? 'close-evidence-incomplete' : 'no-close-evidence',
      key,
      alarm: true,
      orders: resting,
      changes: accounting.changes,
      retryAfterMs,
      snapshotIds,
      message: partial
        ? `kept ${describeOrders(resting)} on ${what}: ${fetches}, but fills since ${clockTime(position.stateUpdatedAt)} leave ${accounting.remaining} of ${position.size} open; exchange list and history disagree`
        : `kept ${describeOrders(resting)} on ${what}: ${fetches} but no close event since ${clockTime(position.stateUpdatedAt)}; exchange list and history disagree`,
    };
  }

  const closedAt = accounting.lastCloseAt ?? evidence.searchedTo;
  const closeWords = describeCloses(accounting.changes);
  if (orders === undefined) return { kind: 'need', step: 'orders' };
  if (orders.status === 'unknown') {
    return waitFor(
      'orders-unknown',
      `${closeWords}, but ${couldNot('listing its orders', orders.failure)}`,
      orders.failure,
      snapshotIds,
    );
  }
  const { orphans, leftAlone } = partitionOrphans(position, orders.orders, closedAt);
  /**
   * The exchange's answers disagree about a close history shows: inside the grace period look again,
   * after it keep every orphan, loudly. Nothing is cancelled either way.
   */
  const disagreement = (
    waitReason: 'orders-after-close' | 'recheck-not-listed',
    keepReason: 'orders-placed-after-close' | 'not-listed-by-symbol',
    why: string,
    whoDisagrees: string,
  ): Decision => {
    if (withinGrace) return waitFor(waitReason, why, undefined, snapshotIds);
    return {
      kind: 'keep-orders',
      reason: keepReason,
      key,
      alarm: true,
      orders: orphans,
      changes: accounting.changes,
      retryAfterMs,
      snapshotIds,
      message: `kept ${describeOrders(orphans)} on ${what}: it ${why}; ${whoDisagrees} disagree`,
    };
  };
  const placedAfterClose = leftAlone.filter((o) => o.createdAt !== undefined && o.createdAt > closedAt);
  if (orphans.length > 0 && placedAfterClose.length > 0) {
    // Protective orders placed after the close are what a reopened position looks like. The lists and
    // the re-check may simply not show it yet (or lie), and history may lag the reopening fill: an old
    // order would then rest on a live position. Touch nothing until the picture agrees.
    return disagreement(
      'orders-after-close',
      'orders-placed-after-close',
      `${closeWords}, but ${describeOrders(placedAfterClose)} were placed for it after that close, as for a reopened position`,
      'lists, re-check and history',
    );
  }
  const leftWords = leftAlone.length === 0 ? '' : `; left ${describeOrders(leftAlone)} of unknown age alone`;
  if (orphans.length === 0) {
    return {
      kind: 'resolve-closed',
      reason: 'closed-no-orders-left',
      key,
      alarm: false,
      changes: accounting.changes,
      ordersLeftAlone: leftAlone,
      snapshotIds,
      message: `${what} ${closeWords}, ${fetches}; no orphaned order rests for it${leftWords}`,
    };
  }

  // Asked by symbol, a venue lists a flat position too (Bybit: size 0, "regardless of having position
  // or not"). An answer that does not list it at all is as incomplete as the lists that started this:
  // no cap slot is spent on it, and once history has had its grace the keep is said loudly.
  const notListed = (which: string): Decision =>
    disagreement(
      'recheck-not-listed',
      'not-listed-by-symbol',
      `${closeWords}, but ${which} does not list the position at all (a flat one is listed with size 0)`,
      "the exchange's answers",
    );
  if (recheck.status === 'absent') return notListed('the re-check by symbol');

  const { cap } = input;
  // The caller may ask the cap for fewer slots than orphans (never more than a whole budget): what is
  // granted is cancelled now, the rest on a later attempt, which re-verifies everything first.
  if (cap === undefined) return { kind: 'need', step: 'cap', slots: orphans.length };
  const deferCapSpent = (why: string): Decision => ({
    kind: 'defer-cap-spent',
    reason: 'cap-spent',
    key,
    alarm: true,
    orders: orphans,
    changes: accounting.changes,
    retryAfterMs,
    snapshotIds,
    message: `kept ${describeOrders(orphans)} on ${what} although it ${closeWords}: ${why}; will retry in a later window`,
  });
  if (cap.status === 'refused') {
    return deferCapSpent(
      `the ${cap.scope} cancel cap (${cap.limit} per window, window ${cap.windowId}) is spent`,
    );
  }
  const granted = orphans.slice(0, Math.max(0, Math.min(cap.slots, orphans.length)));
  // A budget of 0 (an account set to "no cancels", or every slot asked for elsewhere) is a refusal:
  // nothing is cancelled, and a person must hear of it, not read "cancelling no orders".
  if (granted.length === 0) return deferCapSpent(`the cancel cap granted no slot (window ${cap.windowId})`);
  const deferred = orphans.length - granted.length;

  // Last, right before the cancels: the claim must still be ours and the ledger must hold no newer
  // state (a reopen the bot registered while history still lags it), and one more targeted look must
  // not find the position open. What remains is the round trip between that look and the cancels.
  const { renewal } = input;
  if (renewal === undefined) return { kind: 'need', step: 'renew-claim' };
  if (renewal !== 'held') {
    return {
      kind: 'stand-down',
      reason: renewal,
      key,
      alarm: false,
      orders: granted,
      changes: accounting.changes,
      snapshotIds,
      message:
        renewal === 'claim-lost'
          ? `cancelled nothing on ${what}: it ${closeWords}, but the suspect changed hands before the cancels (a check saw it open, or another delivery took over)`
          : `cancelled nothing on ${what}: it ${closeWords}, but the bot registered a newer state of it since (a reopen); suspect ended`,
    };
  }
  const { finalRecheck } = input;
  if (finalRecheck === undefined) return { kind: 'need', step: 'final-recheck' };
  if (finalRecheck.status === 'open') {
    const same = isSameState(finalRecheck.position, position);
    return {
      kind: 'still-open',
      reason: 'present-in-final-recheck',
      key,
      // Proven closed, yet the very state last seen is open: the exchange disagrees with itself.
      alarm: same,
      incompleteResponseObserved: false,
      snapshotIds,
      message: same
        ? `${what} shows the very state last seen (size ${finalRecheck.position.size}) in the last re-check before cancelling, although it ${closeWords}: the exchange disagrees with itself; cancelled nothing, suspect cleared`
        : `${what} is open again (size ${finalRecheck.position.size}) in the last re-check before cancelling, although it ${closeWords}: it reopened meanwhile; cancelled nothing, suspect cleared`,
    };
  }
  if (finalRecheck.status === 'unknown') {
    return waitFor(
      'recheck-unknown',
      `${closeWords}, but ${couldNot('the last re-check before cancelling', finalRecheck.failure)}`,
      finalRecheck.failure,
      snapshotIds,
    );
  }
  if (finalRecheck.status === 'absent') return notListed('the last re-check before cancelling');
  const deferredWords =
    deferred === 0
      ? ''
      : `; kept ${deferred} more for a later cap window (the cap granted ${granted.length} of ${orphans.length})`;
  return {
    kind: 'cancel-orphans',
    reason: 'closed-with-evidence',
    key,
    // A partial grant means the cap is holding cancels back: as worth a look as a refusal.
    alarm: deferred > 0,
    orders: granted,
    ordersDeferred: deferred,
    changes: accounting.changes,
    ordersLeftAlone: leftAlone,
    snapshotIds,
    message: `${describeOrders(granted)} orphaned by ${what}: it ${closeWords}, ${fetches}, re-check flat, last re-check flat${leftWords}${deferredWords}`,
  };
}

/**
 * Exponential back-off from the confirm delay over the attempts made so far (the running one
 * included), capped by what a queue delay can express, with full jitter above the confirm delay: the
 * next look lands anywhere from one confirm delay to the back-off ceiling, so suspects that failed
 * together spread out, and none looks sooner than a confirmation's own delay.
 */
export function retryDelay(attempts: number, config: ReconcileConfig, jitter = 1): number {
  const doublings = Math.min(Math.max(attempts - 1, 0), 20);
  const ceiling = Math.min(config.confirmDelayMs * 2 ** doublings, config.maxRetryDelayMs);
  return config.confirmDelayMs + Math.floor(jitter * Math.max(0, ceiling - config.confirmDelayMs));
}

/** After a rate limit, not before the venue's reset time, plus up to a second so waiters do not all return at once. */
const RESET_JITTER_MS = 1_000;

function honourRetryAt(
  delayMs: number,
  failure: SnapshotFailure | undefined,
  now: number,
  jitter: number,
): number {
  if (failure?.retryAt === undefined) return delayMs;
  return Math.max(delayMs, failure.retryAt - now + Math.floor(jitter * RESET_JITTER_MS));
}

/** "the re-check failed (timeout)", or, for a look the fleet held back, that nothing was sent. */
function couldNot(what: string, failure: SnapshotFailure): string {
  return failure.reason === 'held-back'
    ? `${what} was held back (the fleet's request budget or pause; nothing was sent)`
    : `${what} failed (${failure.reason})`;
}
