import { type ConfirmationInput, decideConfirmation, suspectAfterAttempt } from '../core/confirmation.js';
import type { Decision } from '../core/decision.js';
import type { PositionKey, SuspectRecord } from '../core/types.js';
import type { CancelRecord } from '../ports/audit.js';
import type { ExchangeSession } from '../ports/exchange.js';
import type { StateVersion } from '../ports/store.js';
import { Metric } from '../ports/telemetry.js';
import { confirmFor, loadAccount } from './check.js';
import type { ReconcilerDeps } from './dependencies.js';
import type { ConfirmMessage } from './messages.js';
import type { ReconcileSettings } from './settings.js';
import { recordDecisions } from './telemetry.js';

export interface ConfirmOutcome {
  readonly status: 'decided' | 'not-claimed' | 'skipped';
  readonly decision?: Decision;
  readonly cancels?: readonly CancelRecord[];
}

/**
 * The delayed second look at a suspect. Claims it first (a duplicate delivery of the same message
 * finds it claimed and does nothing), gathers exactly what the core asks for, then acts on the
 * decision. Every path that leaves the suspect undecided schedules the next look: a keep always has
 * a way to resolve.
 */
export async function runConfirm(deps: ReconcilerDeps, message: ConfirmMessage): Promise<ConfirmOutcome> {
  const loaded = await loadAccount(deps, message.accountId);
  if (loaded === undefined) return { status: 'skipped' };
  const { account, settings } = loaded;
  const key: PositionKey = {
    accountId: message.accountId,
    symbol: message.symbol,
    positionIdx: message.positionIdx,
  };

  const now = deps.clock.now();
  const claimed = await deps.store.claimSuspect(key, message.attempt, now, now + settings.claimLeaseMs);
  if (claimed === undefined) {
    deps.telemetry.log(
      'info',
      `confirmation ${message.attempt} of ${message.symbol}#${message.positionIdx} was already handled or its suspect is gone; did nothing`,
      {
        ...key,
        attempt: message.attempt,
      },
    );
    return { status: 'not-claimed' };
  }
  deps.telemetry.count(Metric.ConfirmsRun);

  const exchange = await deps.exchangeFor(account);
  const { decision, input } = await gatherAndDecide(deps, exchange, claimed, settings);
  const cancels = await act(deps, exchange, decision, claimed, input, settings);
  await recordDecisions(deps, 'confirm', [decision], settings.shadow, cancels);
  return cancels === undefined ? { status: 'decided', decision } : { status: 'decided', decision, cancels };
}

/** Answers the core's requests one at a time, in the order it asks, until it decides. */
async function gatherAndDecide(
  deps: ReconcilerDeps,
  exchange: ExchangeSession,
  suspect: SuspectRecord,
  settings: ReconcileSettings,
): Promise<{ decision: Decision; input: ConfirmationInput }> {
  let input: ConfirmationInput = { suspect, now: deps.clock.now(), config: settings };
  for (;;) {
    const next = decideConfirmation(input);
    if (next.kind !== 'need') return { decision: next, input };
    switch (next.step) {
      case 'recheck':
        input = { ...input, recheck: await exchange.recheckPosition(suspect.symbol, suspect.positionIdx) };
        break;
      case 'snapshot':
        input = { ...input, snapshot: await exchange.fetchOpenPositions() };
        break;
      case 'evidence':
        input = { ...input, evidence: await exchange.fetchPositionChanges(suspect.position) };
        break;
      case 'orders':
        input = {
          ...input,
          orders: await exchange.fetchProtectiveOrders(suspect.symbol, suspect.positionIdx),
        };
        break;
      case 'cap':
        input = {
          ...input,
          // Shadow mode cancels nothing, so it takes no slot from the budget live accounts share (a
          // stack going live account by account keeps most of them in shadow), and it finishes in one
          // go: the audit lists every order a live run would cancel, whatever windows that would take.
          // Otherwise never more than a whole budget: a position with more orders is cleaned over
          // several windows.
          cap: settings.shadow
            ? {
                status: 'granted',
                windowId: 'shadow',
                // A zero budget cancels nothing live (and alarms): shadow must not claim otherwise.
                slots: Math.min(settings.capPerAccount, settings.capGlobal) === 0 ? 0 : next.slots,
              }
            : await deps.cap.acquire(
                suspect.accountId,
                Math.min(next.slots, settings.capPerAccount, settings.capGlobal),
                deps.clock.now(),
                settings.capPerAccount,
              ),
        };
        break;
    }
    input = { ...input, now: deps.clock.now() };
  }
}

async function act(
  deps: ReconcilerDeps,
  exchange: ExchangeSession,
  decision: Decision,
  claimed: SuspectRecord,
  input: ConfirmationInput,
  settings: ReconcileSettings,
): Promise<readonly CancelRecord[] | undefined> {
  const { store, telemetry } = deps;
  const key = decision.key;
  // The suspect as this delivery holds it: `updateSuspect` is conditional on exactly this version.
  let held = claimed;
  const lostClaim = (doing: string) =>
    telemetry.log(
      'warn',
      `lost the claim on ${key.symbol}#${key.positionIdx} ${doing}: a check saw the position open again, or another delivery retook it after the lease; did nothing more`,
      { ...key, attempt: claimed.attempts },
    );
  const retry = async (delayMs: number) => {
    const next = suspectAfterAttempt(held, input.snapshot, deps.clock.now() + delayMs);
    if (!(await store.updateSuspect(next, held))) {
      lostClaim('while scheduling its next look');
      return;
    }
    await deps.queue.sendConfirm(confirmFor(next), delayMs);
  };
  /**
   * Renews the lease with a conditional write just before cancelling: if a check deleted the suspect
   * (the position is open again) or another delivery retook it while this one verified, the write fails
   * and nothing is cancelled. It also gives the cancels a whole lease to run in.
   */
  const renew = async (): Promise<boolean> => {
    const renewed = { ...held, claimedUntil: deps.clock.now() + settings.claimLeaseMs };
    if (!(await store.updateSuspect(renewed, held))) return false;
    held = renewed;
    return true;
  };

  switch (decision.kind) {
    case 'still-open':
      if (decision.incompleteResponseObserved) telemetry.count(Metric.IncompleteResponsesObserved);
      await store.deleteSuspect(key);
      return undefined;
    case 'resolve-closed':
      await Promise.all([store.deleteSuspect(key), store.removeTracked(key, claimed.position)]);
      return undefined;
    case 'await-confirmation':
      if (decision.reason.endsWith('-unknown'))
        telemetry.count(Metric.ExchangeErrors, 1, { reason: decision.reason });
      await retry(decision.retryAfterMs);
      return undefined;
    case 'keep-orders':
      telemetry.count(Metric.KeptForLackOfEvidence, decision.orders.length);
      await retry(decision.retryAfterMs);
      return undefined;
    case 'defer-cap-spent':
      telemetry.count(Metric.CapRefusals);
      await retry(Math.max(decision.retryAfterMs, untilNextWindow(deps.clock.now(), settings.capWindowMs)));
      return undefined;
    case 'cancel-orphans':
      if (!settings.shadow && !(await renew())) {
        lostClaim('before cancelling');
        telemetry.count(Metric.CancelsAbandoned, decision.orders.length);
        return decision.orders.map((o) => ({
          orderId: o.orderId,
          status: 'skipped-claim-lost',
          detail: 'the suspect changed hands after it was verified; not cancelled',
        }));
      }
      return cancelOrphans(deps, exchange, decision, settings, retry, claimed.position);
    case 'hold':
    case 'raise-suspect':
      // The confirmation never produces these; keep the suspect and look again rather than lose it.
      await retry(settings.confirmDelayMs);
      return undefined;
  }
}

async function cancelOrphans(
  deps: ReconcilerDeps,
  exchange: ExchangeSession,
  decision: Extract<Decision, { kind: 'cancel-orphans' }>,
  settings: ReconcileSettings,
  retry: (delayMs: number) => Promise<void>,
  /** The state whose close was proven: a newer one registered meanwhile stays in the ledger. */
  position: StateVersion,
): Promise<readonly CancelRecord[]> {
  const { telemetry, store } = deps;
  if (settings.shadow) {
    telemetry.count(Metric.ShadowCancelsSkipped, decision.orders.length);
    await Promise.all([store.deleteSuspect(decision.key), store.removeTracked(decision.key, position)]);
    return decision.orders.map((o) => ({
      orderId: o.orderId,
      status: 'skipped-shadow',
      detail: 'shadow mode',
    }));
  }
  const outcomes = [];
  for (const order of decision.orders) outcomes.push(await exchange.cancelOrder(order.symbol, order.orderId));
  const records: CancelRecord[] = outcomes.map((o) =>
    o.status === 'cancelled'
      ? { orderId: o.orderId, status: o.status }
      : { orderId: o.orderId, status: o.status, detail: o.detail },
  );
  const failed = outcomes.filter((o) => o.status === 'failed');
  telemetry.count(Metric.CancelsExecuted, outcomes.length - failed.length);
  // The cap held part of them back: the cap-refusal alarm is how a person hears of it.
  if (decision.ordersDeferred > 0) telemetry.count(Metric.CapRefusals);
  if (failed.length === 0 && decision.ordersDeferred > 0) {
    // Cancelled what the cap allowed; the rest in the next window, after a fresh verification.
    await retry(Math.max(settings.confirmDelayMs, untilNextWindow(deps.clock.now(), settings.capWindowMs)));
  } else if (failed.length === 0) {
    await Promise.all([store.deleteSuspect(decision.key), store.removeTracked(decision.key, position)]);
  } else {
    // The next attempt re-verifies everything before touching the rest: the world may have moved.
    telemetry.count(Metric.CancelsFailed, failed.length);
    const retryAt = Math.max(0, ...failed.map((f) => f.retryAt ?? 0));
    await retry(Math.max(settings.confirmDelayMs, retryAt - deps.clock.now()));
  }
  return records;
}

function untilNextWindow(now: number, windowMs: number): number {
  return windowMs - (now % windowMs);
}
