import { type ConfirmMessage, confirmMessageFor } from '#contracts/messages.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import { type ConfirmationInput, decideConfirmation } from '#core/confirmation.js';
import type { ClaimRenewal, Decision } from '#core/decision.js';
import { renewedClaim, suspectAfterAttempt } from '#core/suspect.js';
import type { PositionKey, SuspectRecord } from '#core/types.js';
import type { CancelRecord } from '#ports/audit.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { loadEnabledAccount } from './account-context.js';
import { recordDecisions } from './audit-trail.js';
import type { ReconcilerDeps } from './dependencies.js';

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
  const loaded = await loadEnabledAccount(deps, message.accountId);
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
      { ...key, attempt: message.attempt },
    );
    return { status: 'not-claimed' };
  }
  deps.telemetry.count(Metric.ConfirmsRun);

  const exchange = await deps.exchangeFor(account);
  const attempt = new Attempt(deps, exchange, claimed, settings);
  const { decision, input } = await attempt.gatherAndDecide();
  const { cancels, finish } = await attempt.act(decision, input);
  // Audited before the suspect ends: if the audit write fails, the redelivered message still finds
  // the suspect, verifies again and writes the entry, instead of finding nothing and saying nothing.
  await recordDecisions(deps, 'confirm', [decision], settings.shadow, cancels);
  await finish();
  return cancels === undefined ? { status: 'decided', decision } : { status: 'decided', decision, cancels };
}

/** What acting did at the exchange, and what is left to do once it is audited. */
interface Acted {
  readonly cancels?: readonly CancelRecord[];
  /** Ends the suspect (and the ledger entry) where the decision says so; runs after the audit. */
  readonly finish: () => Promise<void>;
}

const nothingLeft = async (): Promise<void> => {};

/**
 * One claimed confirmation attempt. `held` is the suspect exactly as this attempt holds it: every
 * suspect write is conditional on that version, so an attempt that lost its claim cannot overwrite
 * or end what its new holder owns.
 */
class Attempt {
  private held: SuspectRecord;

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly exchange: ExchangeSession,
    private readonly claimed: SuspectRecord,
    private readonly settings: ReconcileSettings,
  ) {
    this.held = claimed;
  }

  /** Answers the core's requests one at a time, in the order it asks, until it decides. */
  async gatherAndDecide(): Promise<{ decision: Decision; input: ConfirmationInput }> {
    const { deps, exchange, claimed: suspect, settings } = this;
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
          input = { ...input, cap: await this.acquireCap(next.slots) };
          break;
        case 'renew-claim':
          input = { ...input, renewal: await this.renewClaim() };
          break;
        case 'final-recheck':
          // The last exchange call before the cancels, after every store write they depend on.
          input = {
            ...input,
            finalRecheck: await exchange.recheckPosition(suspect.symbol, suspect.positionIdx),
          };
          break;
      }
      input = { ...input, now: deps.clock.now() };
    }
  }

  /**
   * Shadow mode cancels nothing, so it takes no slot from the budget live accounts share (a stack going
   * live account by account keeps most of them in shadow), and it finishes in one go: the audit lists
   * every order a live run would cancel, whatever windows that would take. Otherwise never more than a
   * whole budget: a position with more orders is cleaned over several windows.
   */
  private acquireCap(slots: number): Promise<ConfirmationInput['cap'] & object> {
    const { deps, settings } = this;
    if (settings.shadow) {
      // A zero budget cancels nothing live (and alarms): shadow must not claim otherwise.
      const budget = Math.min(settings.capPerAccount, settings.capGlobal) === 0 ? 0 : slots;
      return Promise.resolve({ status: 'granted', windowId: 'shadow', slots: budget });
    }
    return deps.cap.acquire(
      this.claimed.accountId,
      Math.min(slots, settings.capPerAccount, settings.capGlobal),
      deps.clock.now(),
      settings.capPerAccount,
    );
  }

  /**
   * Renews the lease right before cancelling, in one transaction with a check of the ledger: if a
   * check ended the suspect (the position is open again), another delivery retook it, or the bot
   * registered a newer state of the position while this attempt verified, nothing is cancelled. It also
   * gives the cancels a whole lease to run in. Shadow mode renews too, so that what it audits as "would
   * cancel" is exactly what a live run would cancel.
   */
  private async renewClaim(): Promise<ClaimRenewal> {
    const { deps, settings } = this;
    const renewed = renewedClaim(this.held, deps.clock.now() + settings.claimLeaseMs);
    const outcome = await deps.store.renewClaimBeforeCancel(renewed, this.held, this.claimed.position);
    if (outcome === 'held') this.held = renewed;
    return outcome;
  }

  /** Acts on the decision; says what each cancel request came back with, when any was due. */
  async act(decision: Decision, input: ConfirmationInput): Promise<Acted> {
    const { deps, settings } = this;
    const { telemetry } = deps;
    switch (decision.kind) {
      case 'still-open':
        if (decision.incompleteResponseObserved) telemetry.count(Metric.IncompleteResponsesObserved);
        return { finish: () => this.endSuspect().then(() => undefined) };
      case 'resolve-closed':
        return { finish: () => this.forget() };
      case 'await-confirmation':
        if (decision.reason.endsWith('-unknown'))
          telemetry.count(Metric.ExchangeErrors, 1, { reason: decision.reason });
        await this.retry(input, decision.retryAfterMs);
        return { finish: nothingLeft };
      case 'keep-orders':
        telemetry.count(Metric.KeptForLackOfEvidence, decision.orders.length);
        await this.retry(input, decision.retryAfterMs);
        return { finish: nothingLeft };
      case 'defer-cap-spent':
        telemetry.count(Metric.CapRefusals);
        await this.retry(
          input,
          Math.max(decision.retryAfterMs, untilNextWindow(deps.clock.now(), settings.capWindowMs)),
        );
        return { finish: nothingLeft };
      case 'stand-down':
        telemetry.count(Metric.CancelsAbandoned, decision.orders.length);
        // A lost claim belongs to whoever took it; a newer registered state voids the suspect.
        return decision.reason === 'newer-state-registered'
          ? { finish: () => this.endSuspect().then(() => undefined) }
          : { finish: nothingLeft };
      case 'cancel-orphans':
        return this.cancelOrphans(decision, input);
      case 'hold':
      case 'raise-suspect':
        // The confirmation never produces these; keep the suspect and look again rather than lose it.
        await this.retry(input, settings.confirmDelayMs);
        return { finish: nothingLeft };
    }
  }

  /**
   * The cancels go out together, right after the last re-check: no gap between one cancel and the next
   * in which the position could reopen.
   */
  private async cancelOrphans(
    decision: Extract<Decision, { kind: 'cancel-orphans' }>,
    input: ConfirmationInput,
  ): Promise<Acted> {
    const { deps, exchange, settings } = this;
    const { telemetry } = deps;
    if (settings.shadow) {
      telemetry.count(Metric.ShadowCancelsSkipped, decision.orders.length);
      const skipped = decision.orders.map(
        (o): CancelRecord => ({ orderId: o.orderId, status: 'skipped-shadow', detail: 'shadow mode' }),
      );
      return { cancels: skipped, finish: () => this.forget() };
    }
    const outcomes = await Promise.all(decision.orders.map((o) => exchange.cancelOrder(o.symbol, o.orderId)));
    const records: CancelRecord[] = outcomes.map((o) =>
      o.status === 'cancelled'
        ? { orderId: o.orderId, status: o.status }
        : { orderId: o.orderId, status: o.status, detail: o.detail },
    );
    const failed = outcomes.filter((o) => o.status === 'failed');
    telemetry.count(Metric.CancelsExecuted, outcomes.length - failed.length);
    // The cap held part of them back: the cap-refusal alarm is how a person hears of it.
    if (decision.ordersDeferred > 0) telemetry.count(Metric.CapRefusals);
    if (failed.length === 0 && decision.ordersDeferred === 0)
      return { cancels: records, finish: () => this.forget() };
    if (failed.length === 0) {
      // Cancelled what the cap allowed; the rest in the next window, after a fresh verification.
      await this.retry(
        input,
        Math.max(settings.confirmDelayMs, untilNextWindow(deps.clock.now(), settings.capWindowMs)),
      );
    } else {
      // The next attempt re-verifies everything before touching the rest: the world may have moved.
      telemetry.count(Metric.CancelsFailed, failed.length);
      const retryAt = Math.max(0, ...failed.map((f) => f.retryAt ?? 0));
      await this.retry(input, Math.max(settings.confirmDelayMs, retryAt - deps.clock.now()));
    }
    return { cancels: records, finish: nothingLeft };
  }

  /** Schedules the next look, unless the claim was lost meanwhile (then its new holder does). */
  private async retry(input: ConfirmationInput, delayMs: number): Promise<void> {
    const { deps } = this;
    const next = suspectAfterAttempt(this.held, input.snapshot, deps.clock.now() + delayMs);
    if (!(await deps.store.updateSuspect(next, this.held))) {
      const { accountId, symbol, positionIdx } = this.held;
      deps.telemetry.log(
        'warn',
        `lost the claim on ${symbol}#${positionIdx} while scheduling its next look: a check saw the position open again, or another delivery retook it after the lease; did nothing more`,
        { accountId, symbol, positionIdx, attempt: this.held.attempts },
      );
      return;
    }
    await deps.queue.sendConfirm(confirmMessageFor(next), delayMs);
  }

  /** The suspect ends, if this attempt still holds it (otherwise its new holder decides). */
  private endSuspect(): Promise<boolean> {
    return this.deps.store.deleteSuspect(this.claimed, this.held);
  }

  /**
   * The position's close is dealt with: the suspect ends, and the ledger entry goes unless it holds a
   * newer state than the one proven closed (a reopen registered meanwhile stays tracked).
   */
  private async forget(): Promise<void> {
    if (await this.endSuspect()) await this.deps.store.removeTracked(this.claimed, this.claimed.position);
  }
}

function untilNextWindow(now: number, windowMs: number): number {
  return windowMs - (now % windowMs);
}
