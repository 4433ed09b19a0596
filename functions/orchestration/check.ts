import { type CheckMessage, confirmMessageFor } from '#contracts/messages.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import type { Decision } from '#core/decision.js';
import { positionIdOf } from '#core/keys.js';
import { assessSnapshot, type SnapshotAssessment } from '#core/snapshot.js';
import { newSuspect, resentSuspect } from '#core/suspect.js';
import type { SuspectRecord, TrackedPosition } from '#core/types.js';
import type { AccountState, AccountView } from '#ports/store.js';
import { Metric } from '#ports/telemetry.js';
import { loadEnabledAccount } from './account-context.js';
import { recordDecisions } from './audit-trail.js';
import type { ReconcilerDeps } from './dependencies.js';
import { fleetSession, fleetWait, reportBan } from './fleet-access.js';
import { auditProtection } from './protection-audit.js';

export interface CheckOutcome {
  readonly accountId: string;
  readonly status: 'checked' | 'skipped';
  readonly trust?: SnapshotAssessment['trust'];
  readonly decisions: readonly Decision[];
}

/**
 * The scheduled first look at one account: one positions fetch, one read of its record and one of its
 * state. Missing positions become suspects with a delayed confirmation; nothing is ever cancelled here.
 * The message names the account only: what to fetch, with which keys and from which host comes from
 * the account's record in the table, never from whoever wrote the message.
 */
/** Bybit's answers for keys that are wrong or gone: 10003 invalid key, 10004 bad signature, 33004 expired. */
const KEY_REFUSALS = new Set([10003, 10004, 33004]);

export async function runCheck(deps: ReconcilerDeps, message: CheckMessage): Promise<CheckOutcome> {
  const { accountId } = message;
  const loaded = await loadEnabledAccount(deps, accountId);
  if (loaded === undefined) return { accountId, status: 'skipped', decisions: [] };
  const { account, settings } = loaded;
  // A check is periodic: one put off by a fleet pause or a spent budget is simply the next one's. Its
  // list is taken from the budget here, whole (one request per settle coin), not call by call.
  if ((await fleetWait(deps, Math.max(1, account.exchange.settleCoins?.length ?? 1), deps.clock.now())) > 0) {
    deps.telemetry.count(Metric.FleetDeferrals);
    return { accountId, status: 'skipped', decisions: [] };
  }
  const exchange = fleetSession(deps, await deps.exchangeFor(account), {});
  const [snapshot, view] = await Promise.all([
    exchange.session.fetchOpenPositions(),
    deps.store.loadAccountView(accountId),
  ]);
  const bannedByList = exchange.bannedUntil();
  await reportBan(deps, bannedByList, accountId);
  const now = deps.clock.now();
  deps.telemetry.count(Metric.ChecksRun);

  const suspects = new Map(view.suspects.map((s) => [positionIdOf(s), s] as const));
  const assessment = assessSnapshot({
    accountId,
    tracked: view.tracked,
    snapshot,
    suspects,
    consecutiveDistrusted: view.state.consecutiveDistrusted,
    now,
    config: settings,
  });

  if (snapshot.status === 'complete') {
    deps.telemetry.count(Metric.CompleteSnapshots);
  } else {
    deps.telemetry.count(Metric.UnknownSnapshots);
    deps.telemetry.count(Metric.ExchangeErrors, 1, { reason: snapshot.failure.reason });
    // No retry fixes refused keys: a person must, so this has its own alarm.
    if (snapshot.failure.reason === 'auth-error') {
      deps.telemetry.count(Metric.AuthErrors);
      // Only a refusal new keys can cure (invalid, signature, expired) is worth reading the secret
      // again; a missing permission or IP binding is not.
      if (KEY_REFUSALS.has(snapshot.failure.exchangeCode ?? 0)) deps.forgetKeys?.(account);
    }
  }
  if (assessment.trust === 'distrusted' || assessment.trust === 'mass-absence-believed') {
    deps.telemetry.count(Metric.DistrustedSnapshots);
  }
  if (assessment.accountEvent !== undefined) {
    deps.telemetry.log(assessment.trust === 'unknown' ? 'warn' : 'error', assessment.accountEvent, {
      accountId,
      snapshotId: snapshot.snapshotId,
      trust: assessment.trust,
      missing: assessment.missingCount,
      tracked: assessment.trackedCount,
      ...(snapshot.status === 'unknown' ? { failure: snapshot.failure } : {}),
    });
  }

  const state = nextAccountState(
    view.state,
    assessment,
    snapshot.status === 'complete' ? snapshot.fetchedAt : undefined,
    now,
  );
  // An account that never had a complete list is as stale as its first check is old: wrong keys from
  // day one must not read as fresh.
  const freshSince = state.lastCompleteSnapshotAt ?? state.firstCheckedAt ?? now;
  deps.telemetry.gauge(
    Metric.SnapshotAgeSeconds,
    snapshot.status === 'complete' ? 0 : Math.max(0, (now - freshSince) / 1000),
  );

  await Promise.all([
    writeLedger(deps, view, assessment.ledgerUpserts, settings),
    stateChanged(view.state, state, settings) ? deps.store.saveAccountState(state) : undefined,
  ]);
  await Promise.all(
    assessment.decisions.map((d) => actOnCheckDecision(deps, d, suspects, view, snapshot, settings)),
  );

  const protection = await auditProtection(deps, {
    account,
    settings,
    snapshot,
    view,
    suspects,
    session: exchange.session,
  });
  // The audit's order listing may have met a ban the list did not.
  if (exchange.bannedUntil() !== bannedByList) await reportBan(deps, exchange.bannedUntil(), accountId);
  const worthAuditing = [...assessment.decisions.filter(isNoteworthy), ...protection];
  await recordDecisions(
    deps,
    'check',
    worthAuditing.map((decision) => ({ decision })),
    settings.shadow,
  );
  return {
    accountId,
    status: 'checked',
    trust: assessment.trust,
    decisions: [...assessment.decisions, ...protection],
  };
}

async function actOnCheckDecision(
  deps: ReconcilerDeps,
  decision: Decision,
  suspects: ReadonlyMap<string, SuspectRecord>,
  view: AccountView,
  snapshot: Parameters<typeof newSuspect>[1],
  settings: ReconcileSettings,
): Promise<void> {
  const id = positionIdOf(decision.key);
  switch (decision.kind) {
    case 'raise-suspect': {
      const position = view.tracked.find((t) => positionIdOf(t) === id);
      if (position === undefined) return;
      const suspect = newSuspect(position, snapshot, deps.clock.now(), settings);
      // Conditional: a concurrent check (duplicate delivery) that created it first wins, and only it
      // sends the confirmation.
      if (await deps.store.createSuspect(suspect)) {
        deps.telemetry.count(Metric.SuspectsRaised);
        await deps.queue.sendConfirm(confirmMessageFor(suspect), settings.confirmDelayMs);
      }
      return;
    }
    case 'still-open':
      if (decision.incompleteResponseObserved) deps.telemetry.count(Metric.IncompleteResponsesObserved);
      // Open again, whether the earlier list lied or the position traded or reopened: the suspect is void.
      if (suspects.has(id)) await deps.store.deleteSuspect(decision.key);
      return;
    case 'await-confirmation': {
      const suspect = suspects.get(id);
      if (!decision.resendConfirmation || suspect === undefined) return;
      deps.telemetry.count(Metric.ConfirmsResent);
      const resent = resentSuspect(suspect, deps.clock.now(), settings.confirmDelayMs);
      // Conditional: if a confirmation took the suspect meanwhile, it is not lost after all.
      if (await deps.store.updateSuspect(resent, suspect))
        await deps.queue.sendConfirm(confirmMessageFor(resent), 0);
      return;
    }
    default:
      return;
  }
}

/** Routine "still open" and "confirmation pending" lines would drown the audit trail; everything else is kept. */
function isNoteworthy(decision: Decision): boolean {
  if (decision.kind === 'still-open') return decision.snapshotIds.length > 1;
  if (decision.kind === 'await-confirmation') return decision.resendConfirmation;
  return true;
}

/**
 * Writes only ledger entries whose position changed, or that were not refreshed for a while: a
 * steady account costs no write per cycle.
 */
async function writeLedger(
  deps: ReconcilerDeps,
  view: AccountView,
  upserts: readonly TrackedPosition[],
  settings: ReconcileSettings,
): Promise<void> {
  const known = new Map(view.tracked.map((t) => [positionIdOf(t), t] as const));
  const changed = upserts.filter((u) => {
    const before = known.get(positionIdOf(u));
    return (
      before === undefined ||
      before.size !== u.size ||
      before.side !== u.side ||
      before.stateUpdatedAt !== u.stateUpdatedAt ||
      before.stateSequence !== u.stateSequence ||
      u.lastSeenOpenAt - before.lastSeenOpenAt >= settings.ledgerRefreshMs
    );
  });
  if (changed.length > 0) await deps.store.upsertTracked(changed);
}

function nextAccountState(
  previous: AccountState,
  assessment: SnapshotAssessment,
  completeAt: number | undefined,
  now: number,
): AccountState {
  const lastCompleteSnapshotAt = completeAt ?? previous.lastCompleteSnapshotAt;
  const firstCheckedAt = previous.firstCheckedAt ?? now;
  return {
    accountId: previous.accountId,
    consecutiveDistrusted: assessment.consecutiveDistrusted,
    firstCheckedAt,
    ...(lastCompleteSnapshotAt === undefined ? {} : { lastCompleteSnapshotAt }),
  };
}

function stateChanged(before: AccountState, after: AccountState, settings: ReconcileSettings): boolean {
  if (before.consecutiveDistrusted !== after.consecutiveDistrusted) return true;
  if (before.firstCheckedAt === undefined) return true;
  if (after.lastCompleteSnapshotAt === undefined) return false;
  return (
    before.lastCompleteSnapshotAt === undefined ||
    after.lastCompleteSnapshotAt - before.lastCompleteSnapshotAt >= settings.ledgerRefreshMs
  );
}
