import Big from 'big.js';
import type { ProtectionRestored, ProtectionShort } from './decision.js';
import { positionIdOf } from './keys.js';
import { duration, seconds } from './narrate.js';
import type {
  ObservedPosition,
  PositionKey,
  PositionSide,
  PositionSnapshot,
  ProtectiveOrder,
} from './types.js';

/**
 * The protection audit's rules: is every live position covered by a stop, and since when not. Pure: the
 * check hands in what it fetched, and stores what comes back.
 *
 * Only positions *seen open* in a *complete* list are judged: a position an incomplete list left out
 * (the incident) is never a look, so a lying list can delay an alarm but never raise one.
 */

/** How much of a position its resting stops would close, as far as the looks could tell. */
export type StopCoverage =
  | {
      readonly status: 'known';
      /** "0" to "1": the share of the size the stops close; TPs are not stops. */
      readonly share: string;
      /** The size they close, at most the whole size (what replace mode leaves out of its stop). */
      readonly coveredQty: string;
      /** The orders counted (none when the position-level stop covers it). */
      readonly stops: readonly ProtectiveOrder[];
      readonly positionLevel: boolean;
    }
  | { readonly status: 'unknown' };

/**
 * A live position found with less than its whole size under a stop, remembered between checks: one
 * item per position, written only when it changes (first found short, judged, recovered).
 */
export interface ProtectionWatch extends PositionKey {
  readonly side: PositionSide;
  readonly size: string;
  /** Exchange time of the first complete look that found it short: the episode's start. */
  readonly since: number;
  /** Complete looks in a row that found it short, counted up to the 2 the rule needs. */
  readonly looks: number;
  /**
   * The latest change time (Bybit `updatedTime`) any look of this episode showed: a stale list that
   * answers with an older one cannot make the position look older than it is.
   */
  readonly changedAt?: number;
  /**
   * The entry price (Bybit `avgPrice`) when the episode began. Another one at the same side and size
   * is a position closed and opened again between two looks: a new episode. Funding and other updates
   * that move `updatedTime` leave it as it is.
   */
  readonly entryPrice?: string;
  readonly coveredShare: string;
  /** When it was judged unprotected (the alarm); absent while within the grace. */
  readonly alarmedAt?: number;
  /** When stopguard placed a stop on it (replace mode), so that no look places a second one. */
  readonly stopPlacedAt?: number;
  /**
   * Why replace mode last placed nothing (shadow, no rule, a crossed trigger, the cap…): said and
   * audited once, not on every look while it stays so.
   */
  readonly placementRefusal?: string;
  /** The snapshot of the first and of the latest look, for the audit trail. */
  readonly snapshotIds: readonly string[];
}

/**
 * What the bot said about a position's stop when it registered it: that it has none by design (a hedge
 * leg, a grid), or the stop price a replacement should use. Kept until the bot registers it again.
 */
export interface ProtectionIntent extends PositionKey {
  readonly noStopIntended: boolean;
  readonly stopPrice?: string;
  /** The registration's `updatedAt`: a late, older registration does not overwrite a newer one. */
  readonly updatedAt: number;
}

const ONE = new Big(1);

/** Whether the list alone shows a stop over the whole position (a position-level SL or trailing stop). */
export function coveredByPositionLevel(position: ObservedPosition): boolean {
  const level = position.protection;
  return isSet(level?.stopLoss) || isSet(level?.trailingStop);
}

/**
 * The coverage of one position: whole when its position-level stop is set, else the sum of the
 * resting orders that would close it at a loss: stop-losses, trailing stops, and reduce-only or
 * close-on-trigger conditionals that trigger on a move against it. `orders` undefined: not listed
 * (the listing failed or was not needed), so unknown unless the position level settles it.
 */
export function stopCoverage(
  position: ObservedPosition,
  orders: readonly ProtectiveOrder[] | undefined,
): StopCoverage {
  if (coveredByPositionLevel(position))
    return { status: 'known', share: '1', coveredQty: position.size, stops: [], positionLevel: true };
  if (orders === undefined) return { status: 'unknown' };
  const against: ProtectiveOrder['triggersOn'] = position.side === 'long' ? 'fall' : 'rise';
  const stops = orders.filter(
    (o) =>
      o.symbol === position.symbol &&
      o.positionIdx === position.positionIdx &&
      (o.kind === 'stop-loss' ||
        o.kind === 'trailing-stop' ||
        (o.kind === 'reduce-only' && o.triggerPrice !== undefined && o.triggersOn === against)),
  );
  const size = new Big(position.size);
  const covered = stops.reduce((total, o) => total.plus(o.qty === undefined ? size : o.qty), new Big(0));
  const share = size.lte(0) || covered.gte(size) ? ONE : covered.div(size).round(4, Big.roundDown);
  const coveredQty = (covered.gt(size) ? size : covered).toString();
  return { status: 'known', share: share.toString(), coveredQty, stops, positionLevel: false };
}

export interface ProtectionLook {
  readonly accountId: string;
  /** Judged only when complete: the caller does not call this for an unknown list. */
  readonly snapshot: Extract<PositionSnapshot, { status: 'complete' }>;
  readonly coverage: ReadonlyMap<string, StopCoverage>;
  readonly watches: ReadonlyMap<string, ProtectionWatch>;
  readonly intents: ReadonlyMap<string, ProtectionIntent>;
  /** Positions in the ledger: a watch of one that is neither listed nor tracked ended with its close. */
  readonly trackedIds: ReadonlySet<string>;
  readonly graceMs: number;
}

export interface ProtectionJudgement {
  readonly decisions: readonly (ProtectionShort | ProtectionRestored)[];
  /** Watches created or changed by this look: the only writes it costs. */
  readonly saves: readonly ProtectionWatch[];
  readonly ends: readonly ProtectionWatch[];
  /** Judged short and seen open in this look: what the `UnprotectedPositions` metric counts. */
  readonly shortNow: readonly ProtectionWatch[];
  /**
   * Judged short on this look's own coverage (known, not carried over from an earlier look) and with
   * no stop placed yet this episode: the only ones replace mode may act on.
   */
  readonly placeable: readonly ProtectionWatch[];
}

/**
 * One complete look's verdict. A position short of a stop for 2 complete looks in a row is judged
 * `unprotected` (no stop at all) or `underprotected` (a share), once per episode, as soon as the bot
 * has had `graceMs` to place its stop: the first of those looks is `graceMs` old, or the position
 * itself has not changed for `graceMs` (its last fill, Bybit's `updatedTime`, is at least that old: a
 * stop that vanished from a position held for hours is no stop still being placed). A position the
 * ledger no longer tracks while a watch of it remains was proven closed and has been opened again:
 * its predecessor's episode ends and its own starts. A look with unknown
 * coverage neither counts nor resets. The episode ends when a stop covers it again, the bot marks it
 * intentional, or it closes; an episode that was alarmed ends with a `protection-restored`.
 */
export function judgeProtection(look: ProtectionLook): ProtectionJudgement {
  const { snapshot } = look;
  const decisions: (ProtectionShort | ProtectionRestored)[] = [];
  const saves: ProtectionWatch[] = [];
  const ends: ProtectionWatch[] = [];
  const shortNow: ProtectionWatch[] = [];
  const placeable: ProtectionWatch[] = [];
  const end = (watch: ProtectionWatch | undefined, reason: ProtectionRestored['reason']) => {
    if (watch === undefined) return;
    ends.push(watch);
    if (watch.alarmedAt !== undefined) decisions.push(restored(watch, reason, snapshot));
  };
  const seen = new Set<string>();
  /** Watches of a position the ledger has forgotten (its close was proven): this one is a reopen. */
  const stale: ProtectionWatch[] = [];
  for (const position of snapshot.positions) {
    const id = positionIdOf(position);
    seen.add(id);
    const earlier = look.watches.get(id);
    const reopened = earlier !== undefined && !look.trackedIds.has(id);
    if (reopened) {
      stale.push(earlier);
      if (earlier.alarmedAt !== undefined) decisions.push(restored(earlier, 'position-closed', snapshot));
    }
    const watch = reopened ? undefined : earlier;
    if (look.intents.get(id)?.noStopIntended === true) {
      end(watch, 'marked-intentional');
      continue;
    }
    const coverage = look.coverage.get(id);
    if (coverage === undefined || coverage.status === 'unknown') {
      if (watch?.alarmedAt !== undefined) shortNow.push(watch);
      continue;
    }
    if (new Big(coverage.share).gte(ONE)) {
      end(watch, 'stop-seen');
      continue;
    }
    const next = nextWatch(look.accountId, position, coverage.share, watch, snapshot);
    const judged =
      next.alarmedAt === undefined && next.looks >= 2 && graceOver(next, position, snapshot, look.graceMs)
        ? { ...next, alarmedAt: snapshot.fetchedAt }
        : next;
    if (judged.alarmedAt !== undefined && (watch?.alarmedAt === undefined || judged.since !== watch.since)) {
      decisions.push(short(judged, coverage, snapshot, position, look.graceMs));
    }
    if (watch === undefined || judged.since !== watch.since || changed(watch, judged)) saves.push(judged);
    if (judged.alarmedAt !== undefined) shortNow.push(judged);
    if (judged.alarmedAt !== undefined && judged.stopPlacedAt === undefined) placeable.push(judged);
  }
  for (const [id, watch] of look.watches) {
    if (!seen.has(id) && !look.trackedIds.has(id)) end(watch, 'position-closed');
  }
  // A reopen's own watch replaces its predecessor's; without one, the predecessor's goes.
  const saved = new Set(saves.map(positionIdOf));
  for (const watch of stale) if (!saved.has(positionIdOf(watch))) ends.push(watch);
  return { decisions, saves, ends, shortNow, placeable };
}

/**
 * Whether the bot has had its grace: bare since a look `graceMs` old, or the position unchanged for
 * `graceMs`. A change time that is missing or ahead of the look proves nothing, so only the first counts.
 */
function graceOver(
  watch: ProtectionWatch,
  position: ObservedPosition,
  snapshot: ProtectionLook['snapshot'],
  graceMs: number,
): boolean {
  if (snapshot.fetchedAt - watch.since >= graceMs) return true;
  const changedAt = Math.max(position.updatedAt, watch.changedAt ?? 0);
  return (
    position.updatedAt > 0 && changedAt <= snapshot.fetchedAt && snapshot.fetchedAt - changedAt >= graceMs
  );
}

function nextWatch(
  accountId: string,
  position: ObservedPosition,
  share: string,
  watch: ProtectionWatch | undefined,
  snapshot: ProtectionLook['snapshot'],
): ProtectionWatch {
  const base = {
    accountId,
    symbol: position.symbol,
    positionIdx: position.positionIdx,
    side: position.side,
    size: position.size,
    coveredShare: share,
  };
  // A flip, a position that grew, or one opened again at another price (closed and reopened between
  // two looks) is a new episode: the bot gets its grace again, and replace mode a new stop (with a new
  // orderLinkId) for what it now holds. A reduce, funding, a stop edited elsewhere are not.
  const entryPrice = position.protection?.entryPrice;
  const renewed =
    watch !== undefined &&
    (watch.side !== position.side ||
      new Big(position.size).gt(watch.size) ||
      (watch.entryPrice !== undefined && entryPrice !== undefined && watch.entryPrice !== entryPrice));
  if (watch === undefined || renewed) {
    return {
      ...base,
      since: snapshot.fetchedAt,
      looks: 1,
      changedAt: position.updatedAt,
      ...(entryPrice === undefined ? {} : { entryPrice }),
      snapshotIds: [snapshot.snapshotId],
    };
  }
  return {
    ...watch,
    ...base,
    changedAt: Math.max(watch.changedAt ?? position.updatedAt, position.updatedAt),
    ...(watch.entryPrice === undefined && entryPrice !== undefined ? { entryPrice } : {}),
    looks: Math.min(2, watch.looks + 1),
    snapshotIds: [watch.snapshotIds[0] ?? snapshot.snapshotId, snapshot.snapshotId],
  };
}

/** Whether a look changed what is worth storing (not merely the latest snapshot id). */
function changed(before: ProtectionWatch, after: ProtectionWatch): boolean {
  return (
    before.looks !== after.looks ||
    before.coveredShare !== after.coveredShare ||
    before.size !== after.size ||
    before.side !== after.side ||
    before.alarmedAt !== after.alarmedAt ||
    before.changedAt !== after.changedAt ||
    before.entryPrice !== after.entryPrice
  );
}

function short(
  watch: ProtectionWatch,
  coverage: Extract<StopCoverage, { status: 'known' }>,
  snapshot: ProtectionLook['snapshot'],
  position: ObservedPosition,
  graceMs: number,
): ProtectionShort {
  const none = new Big(coverage.share).lte(0);
  const bareFor = snapshot.fetchedAt - watch.since;
  // Bare for less than the grace: the position's age ended it, and the line says so.
  const held =
    bareFor < graceMs
      ? `, position last changed ${duration(snapshot.fetchedAt - (watch.changedAt ?? position.updatedAt))} ago`
      : '';
  const what = `${watch.symbol} ${watch.side} ${watch.size} on ${watch.accountId}`;
  const since = `${seconds(bareFor)}${held}`;
  const stops = coverage.stops.map((o) => `${o.kind} ${o.qty ?? 'whole'}`).join(', ');
  return {
    kind: none ? 'unprotected' : 'underprotected',
    reason: 'stop-coverage-short',
    key: keyOfWatch(watch),
    alarm: true,
    snapshotIds: watch.snapshotIds,
    coveredShare: coverage.share,
    uncoveredSince: watch.since,
    message: none
      ? `${what}: no stop-loss for ${since}; exchange shows none, position-level or order`
      : `${what}: stops cover only ${percent(coverage.share)} of the size for ${since} (${stops})`,
  };
}

function restored(
  watch: ProtectionWatch,
  reason: ProtectionRestored['reason'],
  snapshot: ProtectionLook['snapshot'],
): ProtectionRestored {
  const what = `${watch.symbol} ${watch.side} on ${watch.accountId}`;
  const after = seconds(snapshot.fetchedAt - watch.since);
  const how = {
    'stop-seen': `a stop covers it again after ${after} short`,
    'position-closed': `closed after ${after} without a full stop; nothing left to protect`,
    'marked-intentional': `the bot marked it as having no stop by design, after ${after} short`,
  }[reason];
  return {
    kind: 'protection-restored',
    reason,
    key: keyOfWatch(watch),
    alarm: false,
    snapshotIds: [...watch.snapshotIds.slice(0, 1), snapshot.snapshotId],
    uncoveredSince: watch.since,
    message: `${what}: ${how}`,
  };
}

export function percent(share: string): string {
  return `${new Big(share).times(100).round(1).toString()} %`;
}

function keyOfWatch(watch: ProtectionWatch): PositionKey {
  return { accountId: watch.accountId, symbol: watch.symbol, positionIdx: watch.positionIdx };
}

function isSet(price: string | undefined): boolean {
  return price !== undefined && price !== '' && new Big(price).gt(0);
}
