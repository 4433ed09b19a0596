import type { ConfirmMessage } from '#contracts/messages.js';
import { positionIdOf } from '#core/keys.js';
import type { PositionKey, SuspectRecord } from '#core/types.js';
import { Metric } from '#ports/telemetry.js';
import { loadEnabledAccount } from './account-context.js';
import { type Decided, recordDecisions } from './audit-trail.js';
import { ConfirmationPass } from './confirmation-pass.js';
import type { ReconcilerDeps } from './dependencies.js';
import { fleetSession, fleetWait, reportBan } from './fleet-access.js';

export interface ConfirmOutcome {
  /** `deferred`: the fleet was paused or over budget; the same message comes back later. */
  readonly status: 'decided' | 'not-claimed' | 'skipped' | 'deferred';
  /** Every suspect the pass decided, the messaged one first. */
  readonly decided: readonly Decided[];
}

/**
 * A suspect whose next look is due this close to the one messaged joins its pass: the suspects of
 * one check share a schedule, so one pass serves them all.
 */
const PASS_HORIZON_MS = 2_000;

/**
 * The requests a pass over `claimed` makes, counting one page per listing: the positions list, the
 * fill and closed-PnL listings, the open-orders listing, a re-check and a last look per symbol, and a
 * cancel per tracked order. Pages beyond the first (a busy account's history, walked per symbol past
 * the page limit) are not counted: the budget's bound is approximate by that much.
 */
function passRequests(claimed: readonly SuspectRecord[]): number {
  const symbols = new Set(claimed.map((s) => s.symbol)).size;
  const orders = claimed.reduce((n, s) => n + s.position.protectiveOrders.length, 0);
  return 4 + 2 * symbols + orders;
}

/** Put-off passes come back over this long after the wait ends. */
const RETURN_SPREAD_MS = 30_000;
/** SQS delays stop at 15 minutes. */
const MAX_QUEUE_DELAY_MS = 900_000;

/**
 * The delayed second look, for every due suspect of the account at once: one pass shares one
 * positions list, one targeted re-check per symbol, one fill query reaching back to the earliest last
 * seen state, one open-orders listing, one cap request (smaller ones when it no longer fits) and one last re-check per symbol, however many
 * positions closed together (a market move that hits many stops must not burst the account's rate
 * limit once per position). Each suspect is still claimed on its own, decided on its own by the core,
 * and ends or waits on its own.
 *
 * The messaged suspect is claimed first (a duplicate or late delivery finds it claimed or finished
 * and stops there, for one write); only then are the account's other due suspects read and claimed.
 */
export async function runConfirm(deps: ReconcilerDeps, message: ConfirmMessage): Promise<ConfirmOutcome> {
  const loaded = await loadEnabledAccount(deps, message.accountId);
  if (loaded === undefined) return { status: 'skipped', decided: [] };
  const { account, settings } = loaded;
  const key: PositionKey = {
    accountId: message.accountId,
    symbol: message.symbol,
    positionIdx: message.positionIdx,
  };

  const now = deps.clock.now();
  // Put off while the fleet is paused, a pass comes back when the pause ends, spread over half a
  // minute so that the waiters do not return at once.
  const wait = await fleetWait(deps, 0, now);
  if (wait > 0) {
    deps.telemetry.count(Metric.FleetDeferrals);
    await deps.queue.sendConfirm(
      message,
      Math.min(MAX_QUEUE_DELAY_MS, wait + Math.floor(deps.random.next() * RETURN_SPREAD_MS)),
    );
    return { status: 'deferred', decided: [] };
  }
  const lease = now + settings.claimLeaseMs;
  const first = await deps.store.claimSuspect(key, message.attempt, now, lease);
  if (first === undefined) {
    deps.telemetry.log(
      'info',
      `confirmation ${message.attempt} of ${message.symbol}#${message.positionIdx} was already handled or its suspect is gone; did nothing`,
      { ...key, attempt: message.attempt },
    );
    return { status: 'not-claimed', decided: [] };
  }
  const view = await deps.store.loadAccountView(message.accountId);
  const others = view.suspects.filter(
    (s) =>
      positionIdOf(s) !== positionIdOf(first) &&
      (s.claimedUntil === undefined || s.claimedUntil < now) &&
      s.nextAttemptAt <= now + PASS_HORIZON_MS,
  );
  const joined = await Promise.all(others.map((s) => deps.store.claimSuspect(s, s.attempts, now, lease)));
  const claimed = [first, ...joined.filter((s): s is SuspectRecord => s !== undefined)];
  deps.telemetry.count(Metric.ConfirmsRun, claimed.length);

  // The pass takes what it may use from the fleet's budget at once. Refused, it still runs, on a
  // session that sends nothing: every look is unknown, held back until the budget frees up, and each
  // suspect waits for that as for a rate limit, audited as held back.
  const admittedAt = await deps.fleet.admit(passRequests(claimed), now);
  if (admittedAt > now) deps.telemetry.count(Metric.FleetDeferrals);
  const exchange = fleetSession(
    deps,
    await deps.exchangeFor(account),
    admittedAt > now ? { heldUntil: admittedAt } : {},
  );
  const intended = new Set(view.intents.map(positionIdOf));
  const pass = new ConfirmationPass(deps, exchange.session, claimed, settings, intended);
  await pass.gatherAndDecide();
  const acted = await pass.act();
  await reportBan(deps, exchange.bannedUntil(), message.accountId);
  // Audited before the suspects end: if the audit write fails, the redelivered message still finds
  // them, verifies again and writes the entries, instead of finding nothing and saying nothing.
  await recordDecisions(deps, 'confirm', acted.decided, settings.shadow);
  await acted.finish();
  return { status: 'decided', decided: acted.decided };
}
