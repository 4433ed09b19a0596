import type { ReconcileSettings } from '#contracts/settings.js';
import type { Decision, StopPlacement } from '#core/decision.js';
import { positionIdOf } from '#core/keys.js';
import {
  coveredByPositionLevel,
  judgeProtection,
  type ProtectionIntent,
  type ProtectionWatch,
  type StopCoverage,
  stopCoverage,
} from '#core/protection.js';
import { planReplacementStop } from '#core/stop-replacement.js';
import type { ObservedPosition, PositionSnapshot, ProtectiveOrder, SuspectRecord } from '#core/types.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { ExchangeSession } from '#ports/exchange.js';
import type { AccountView } from '#ports/store.js';
import { Metric } from '#ports/telemetry.js';
import type { ReconcilerDeps } from './dependencies.js';

export interface ProtectionAuditInput {
  readonly account: AccountRecord;
  readonly settings: ReconcileSettings;
  readonly snapshot: PositionSnapshot;
  readonly view: AccountView;
  readonly suspects: ReadonlyMap<string, SuspectRecord>;
  readonly session: ExchangeSession;
}

/**
 * The protection audit of one check: which live positions lack a full stop, judged on what the check
 * already fetched. The account's open orders are listed (once) only when some position's own stop does
 * not cover it. Replace mode then places the missing stops. Returns the decisions for the audit trail.
 */
export async function auditProtection(
  deps: ReconcilerDeps,
  input: ProtectionAuditInput,
): Promise<Decision[]> {
  const { snapshot, view, settings, account } = input;
  // Only a complete list is a look; an incomplete one (the incident) must never raise an alarm.
  if (snapshot.status !== 'complete') return [];
  const intents = new Map(view.intents.map((i) => [positionIdOf(i), i] as const));
  const watches = new Map(view.watches.map((w) => [positionIdOf(w), w] as const));
  const needOrders = snapshot.positions.filter(
    (p) => !coveredByPositionLevel(p) && intents.get(positionIdOf(p))?.noStopIntended !== true,
  );
  let orders: readonly ProtectiveOrder[] | undefined;
  if (needOrders.length > 0) {
    deps.telemetry.count(Metric.ProtectionOrderListings);
    const listed = await input.session.fetchProtectiveOrders();
    orders = listed.status === 'known' ? listed.orders : undefined;
  }
  const coverage = new Map<string, StopCoverage>(
    snapshot.positions.map((p) => [positionIdOf(p), stopCoverage(p, orders)] as const),
  );
  const judgement = judgeProtection({
    accountId: account.accountId,
    snapshot,
    coverage,
    watches,
    intents,
    trackedIds: new Set(view.tracked.map(positionIdOf)),
    graceMs: settings.protectionGraceMs,
  });
  await deps.store.saveWatches(judgement.saves, judgement.ends);
  deps.telemetry.count(Metric.UnprotectedPositions, judgement.shortNow.length);
  const decisions: Decision[] = [...judgement.decisions];
  if (account.protection?.mode === 'replace') {
    const seen = new Map(snapshot.positions.map((p) => [positionIdOf(p), p] as const));
    for (const watch of judgement.placeable) {
      const position = seen.get(positionIdOf(watch));
      if (position === undefined) continue;
      const known = coverage.get(positionIdOf(watch));
      const covered = known?.status === 'known' ? known.coveredQty : '0';
      const decision = await replaceStop(
        deps,
        input,
        watch,
        position,
        intents.get(positionIdOf(watch)),
        covered,
      );
      if (PLACING.has(decision.reason)) {
        decisions.push(decision);
      } else if (watch.placementRefusal !== decision.reason) {
        // A refusal is said once per reason, not every look while it stands; the alarm stays up.
        decisions.push(decision);
        await deps.store.markWatch({ ...watch, placementRefusal: decision.reason }, watch);
      }
    }
  }
  return decisions;
}

/** Outcomes where a stop rests (or another check is placing it): always audited. */
const PLACING: ReadonlySet<StopPlacement['reason']> = new Set(['placed', 'already-placed', 'raced']);

/**
 * Replace mode for one position judged short: a stop from the account's rule, through the placement
 * cap, marked on the watch before it is sent (so a racing check cannot send a second; the
 * `orderLinkId` stops a resent one). Never while a suspect of the position is open: its absence and
 * its presence disagree, and a stop is not placed on a position that may be closed.
 */
async function replaceStop(
  deps: ReconcilerDeps,
  input: ProtectionAuditInput,
  watch: ProtectionWatch,
  position: ObservedPosition,
  intent: ProtectionIntent | undefined,
  coveredQty: string,
): Promise<StopPlacement> {
  const { settings } = input;
  const base = { key: { accountId: watch.accountId, symbol: watch.symbol, positionIdx: watch.positionIdx } };
  const what = `${watch.symbol} ${watch.side} ${watch.size} on ${watch.accountId}`;
  const refuse = (reason: StopPlacement['reason'], why: string): StopPlacement => ({
    ...base,
    kind: 'place-stop',
    reason,
    alarm: true,
    snapshotIds: watch.snapshotIds,
    message: `placed NO stop on ${what}: ${why}; it stays unprotected and alarmed`,
  });
  if (input.suspects.has(positionIdOf(watch))) {
    return refuse('suspect-open', 'a suspect of it is open (a list missed it), so it may be closed');
  }
  const plan = planReplacementStop(
    watch,
    position,
    intent,
    input.account.protection?.stopDistance === undefined
      ? {}
      : { stopDistance: input.account.protection.stopDistance },
    coveredQty,
  );
  if (plan.status === 'refuse') return refuse(plan.reason, plan.detail);
  const { request } = plan;
  const stop = `a reduce-only stop for ${request.qty} at ${request.triggerPrice} (${request.orderLinkId})`;
  const placed = (reason: StopPlacement['reason'], said: string, alarm: boolean): StopPlacement => ({
    ...base,
    kind: 'place-stop',
    reason,
    alarm,
    snapshotIds: watch.snapshotIds,
    request,
    message: `${said} ${stop} on ${what}, ${describeShare(watch.coveredShare)} covered before`,
  });
  if (settings.shadow) return placed('shadow', 'shadow mode, nothing placed; a live run would place', false);
  const now = deps.clock.now();
  const marked = { ...watch, stopPlacedAt: now };
  if (!(await deps.store.markWatch(marked, watch))) {
    // A racing check (a duplicate delivery) took this episode's placement: it decides, no alarm here.
    return placed('raced', 'another check is placing', false);
  }
  const grant = await deps.placementCap.acquire(watch.accountId, 1, now, settings.placementCapPerAccount);
  if (grant.status === 'refused') {
    await deps.store.markWatch(watch, marked);
    deps.telemetry.count(Metric.CapRefusals, 1, { budget: 'placement' });
    return refuse('cap-spent', `the ${grant.scope} budget of ${grant.limit} stops per window is spent`);
  }
  const outcome = await input.session.placeStop(request);
  switch (outcome.status) {
    case 'placed': {
      deps.telemetry.count(Metric.StopsPlaced);
      const moved =
        outcome.triggerPrice === undefined ? '' : `, its trigger put on the tick at ${outcome.triggerPrice}`;
      return placed('placed', `placed (order ${outcome.orderId}${moved})`, false);
    }
    case 'already-placed':
      return placed('already-placed', 'an earlier attempt had already placed', false);
    case 'failed':
      // The watch keeps no placement, so the next look tries again with the same orderLinkId.
      await deps.store.markWatch(watch, marked);
      return refuse('place-failed', `the exchange refused ${stop}: ${outcome.detail}`);
  }
}

function describeShare(share: string): string {
  return share === '0' ? 'nothing' : `${Number(share) * 100} %`;
}
