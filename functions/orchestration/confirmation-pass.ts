import { confirmMessageFor } from '#contracts/messages.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import { type ConfirmationInput, decideConfirmation } from '#core/confirmation.js';
import type { CancelRecord, ClaimRenewal, ConfirmationStep, Decision } from '#core/decision.js';
import { recheckOfLeg } from '#core/evidence.js';
import { positionIdOf } from '#core/keys.js';
import { isStuck, renewedClaim, suspectAfterAttempt } from '#core/suspect.js';
import type { SuspectRecord } from '#core/types.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import type { Decided } from './audit-trail.js';
import type { ReconcilerDeps } from './dependencies.js';
import { acquirePassCap } from './pass-cap.js';
import { ordersOfSymbols } from './pass-orders.js';

/**
 * One confirmation pass over the claimed suspects of an account (see `runConfirm`): it gathers what
 * the core asks for, each resource once for all of them, and acts on the decisions.
 */

/** The steps of a confirmation, in the order the core asks for them. */
const STEP_ORDER: readonly ConfirmationStep['step'][] = [
  'recheck',
  'snapshot',
  'evidence',
  'orders',
  'cap',
  'renew-claim',
  'final-recheck',
];

/**
 * One claimed suspect in a pass. `held` is the suspect exactly as this pass holds it: every write to
 * it is conditional on that version, so a pass that lost the claim cannot overwrite or end what its
 * new holder owns.
 */
interface Member {
  readonly claimed: SuspectRecord;
  held: SuspectRecord;
  input: ConfirmationInput;
  decision?: Decision;
  /** The bot said something of this position's stop (an intent item exists): ended with its close. */
  readonly intended: boolean;
}

export class ConfirmationPass {
  private readonly members: Member[];
  /** What each cancel request came back with, by decision; sent as soon as its symbol's last look. */
  private readonly cancels = new Map<Decision, readonly (CancelRecord & { readonly retryAt?: number })[]>();

  constructor(
    private readonly deps: ReconcilerDeps,
    private readonly exchange: ExchangeSession,
    claimed: readonly SuspectRecord[],
    private readonly settings: ReconcileSettings,
    /** Positions (`positionIdOf`) the bot said something of the stop of. */
    withIntent: ReadonlySet<string> = new Set(),
  ) {
    // One draw for the pass: its suspects stay together on their next look, apart from other accounts'.
    const jitter = deps.random.next();
    const now = deps.clock.now();
    this.members = claimed.map((suspect) => ({
      claimed: suspect,
      held: suspect,
      input: { suspect, now, config: settings, jitter },
      intended: withIntent.has(positionIdOf(suspect)),
    }));
  }

  /**
   * Answers the core's requests step by step, each resource fetched once for every member that asks
   * for it, until every member has its decision. The core asks in a fixed order, so a step once passed
   * is never asked for again. The last step is per symbol: its last re-check, its members' decisions
   * and at once their cancels, before the next symbol is looked at, so that for every position the
   * last exchange call before its cancels is its own re-check (`lastLookAndCancel`).
   */
  async gatherAndDecide(): Promise<void> {
    for (;;) {
      const needs: { member: Member; need: ConfirmationStep }[] = [];
      for (const member of this.members) {
        if (member.decision !== undefined) continue;
        const next = decideConfirmation(member.input);
        if (next.kind === 'need') needs.push({ member, need: next });
        else member.decision = next;
      }
      if (needs.length === 0) return;
      const step = STEP_ORDER.find((s) => needs.some((n) => n.need.step === s));
      const asking = needs.filter((n) => n.need.step === step);
      if (step === 'final-recheck') await this.lastLookAndCancel(asking.map((a) => a.member));
      else await this.answer(asking);
      const now = this.deps.clock.now();
      for (const member of this.members) member.input = { ...member.input, now };
    }
  }

  private async answer(asking: readonly { member: Member; need: ConfirmationStep }[]): Promise<void> {
    const { exchange } = this;
    const members = asking.map((a) => a.member);
    const set = (patch: (m: Member) => Partial<ConfirmationInput>) => {
      for (const m of members) m.input = { ...m.input, ...patch(m) };
    };
    const step = asking[0]?.need;
    switch (step?.step) {
      case undefined:
        return;
      case 'final-recheck':
        // Never answered here: see lastLookAndCancel.
        return;
      case 'recheck': {
        // One look per symbol, every leg at once.
        const symbols = [...new Set(members.map((m) => m.claimed.symbol))];
        const looks = new Map(
          await Promise.all(symbols.map(async (s) => [s, await exchange.recheckSymbol(s)] as const)),
        );
        set((m) => {
          const look = looks.get(m.claimed.symbol);
          return look === undefined ? {} : { recheck: recheckOfLeg(look, m.claimed.positionIdx) };
        });
        return;
      }
      case 'snapshot': {
        const snapshot = await exchange.fetchOpenPositions();
        set(() => ({ snapshot }));
        return;
      }
      case 'evidence': {
        const evidence = await exchange.fetchPositionChanges(members.map((m) => m.claimed.position));
        set((m) => {
          const found = evidence.get(positionIdOf(m.claimed));
          return found === undefined ? {} : { evidence: found };
        });
        return;
      }
      case 'orders': {
        const orders = await ordersOfSymbols(exchange, [...new Set(members.map((m) => m.claimed.symbol))]);
        set((m) => {
          const own = orders.get(m.claimed.symbol);
          return own === undefined ? {} : { orders: own };
        });
        return;
      }
      case 'cap': {
        const asked = asking.map((a) => (a.need.kind === 'need' && a.need.step === 'cap' ? a.need.slots : 0));
        const verdicts = await acquirePassCap(
          this.deps,
          this.settings,
          this.members[0]?.claimed.accountId ?? '',
          asked,
        );
        members.forEach((m, i) => {
          const cap = verdicts[i];
          if (cap !== undefined) m.input = { ...m.input, cap };
        });
        return;
      }
      case 'renew-claim': {
        const renewals = await Promise.all(members.map((m) => this.renewClaim(m)));
        members.forEach((m, i) => {
          const renewal = renewals[i];
          if (renewal !== undefined) m.input = { ...m.input, renewal };
        });
        return;
      }
    }
  }

  /**
   * Symbol by symbol: one last targeted look at every leg, the decisions of the members on it, and
   * their cancels sent at once, before the next symbol is looked at. The window that remains for a
   * position is the round trip between its own last look and its cancels, nothing longer.
   */
  private async lastLookAndCancel(members: readonly Member[]): Promise<void> {
    for (const symbol of [...new Set(members.map((m) => m.claimed.symbol))]) {
      const look = await this.exchange.recheckSymbol(symbol);
      const mine = members.filter((m) => m.claimed.symbol === symbol);
      for (const m of mine) {
        m.input = {
          ...m.input,
          finalRecheck: recheckOfLeg(look, m.claimed.positionIdx),
          now: this.deps.clock.now(),
        };
        const decided = decideConfirmation(m.input);
        if (decided.kind !== 'need') m.decision = decided;
      }
      await this.cancelAll(mine.flatMap((m) => (m.decision === undefined ? [] : [m.decision])));
    }
  }

  /**
   * Renews the lease right before cancelling, in one transaction with a check of the ledger: if a
   * check ended the suspect (the position is open again), another delivery retook it, or the bot
   * registered a newer state of the position while this pass verified, nothing is cancelled for it.
   * It also gives the cancels a whole lease to run in. Shadow mode renews too, so that what it audits
   * as "would cancel" is exactly what a live run would cancel.
   */
  private async renewClaim(member: Member): Promise<ClaimRenewal> {
    const { deps, settings } = this;
    const renewed = renewedClaim(member.held, deps.clock.now() + settings.claimLeaseMs);
    const outcome = await deps.store.renewClaimBeforeCancel(renewed, member.held, member.claimed.position);
    if (outcome === 'held') member.held = renewed;
    return outcome;
  }

  /**
   * Acts on every decision (the cancels already went out with their symbol's last look): each suspect
   * waits or is told when to look again. What ends suspects is left to `finish`, which runs once the
   * decisions are audited.
   */
  async act(): Promise<{ readonly decided: readonly Decided[]; readonly finish: () => Promise<void> }> {
    const { deps, settings } = this;
    const { telemetry } = deps;
    const decided = this.members.flatMap((m) =>
      m.decision === undefined ? [] : [{ member: m, decision: m.decision }],
    );
    const { cancels } = this;
    const finishing: (() => Promise<void>)[] = [];
    for (const { member, decision } of decided) {
      const retry = (delayMs: number) => this.retry(member, delayMs);
      // Undecided for want of an answer or of evidence: what may become stuck.
      const undecided = (delayMs: number) => this.retry(member, delayMs, decision);
      switch (decision.kind) {
        case 'still-open':
          if (decision.incompleteResponseObserved) telemetry.count(Metric.IncompleteResponsesObserved);
          finishing.push(() => this.endSuspect(member).then(() => undefined));
          break;
        case 'resolve-closed':
          finishing.push(() => this.forget(member));
          break;
        case 'await-confirmation':
          // A look the fleet held back sent nothing: not an exchange error (FleetDeferrals counts it).
          if (decision.reason.endsWith('-unknown') && decision.failureReason !== 'held-back')
            telemetry.count(Metric.ExchangeErrors, 1, { reason: decision.reason });
          await undecided(decision.retryAfterMs);
          break;
        case 'keep-orders':
          telemetry.count(Metric.KeptForLackOfEvidence, decision.orders.length);
          await undecided(decision.retryAfterMs);
          break;
        case 'defer-cap-spent':
          telemetry.count(Metric.CapRefusals);
          // Spread over the first half of the next window: refused passes that all came back at its
          // start would meet in the same order every window, and the same ones would always lose.
          await retry(
            Math.max(
              decision.retryAfterMs,
              untilNextWindow(deps.clock.now(), settings.capWindowMs) +
                Math.floor(deps.random.next() * (settings.capWindowMs / 2)),
            ),
          );
          break;
        case 'stand-down':
          telemetry.count(Metric.CancelsAbandoned, decision.orders.length);
          // A lost claim belongs to whoever took it; a newer registered state voids the suspect.
          if (decision.reason === 'newer-state-registered')
            finishing.push(() => this.endSuspect(member).then(() => undefined));
          break;
        case 'cancel-orphans': {
          const records = cancels.get(decision) ?? [];
          const failed = records.filter((r) => r.status === 'failed');
          if (decision.ordersDeferred > 0) telemetry.count(Metric.CapRefusals);
          if (failed.length > 0) {
            // The next attempt re-verifies everything before touching the rest: the world may have moved.
            telemetry.count(Metric.CancelsFailed, failed.length);
            const retryAt = Math.max(0, ...failed.map((f) => f.retryAt ?? 0));
            await retry(Math.max(settings.confirmDelayMs, retryAt - deps.clock.now()));
          } else if (decision.ordersDeferred > 0) {
            // Cancelled what the cap allowed; the rest in the next window, after a fresh verification.
            await retry(
              Math.max(settings.confirmDelayMs, untilNextWindow(deps.clock.now(), settings.capWindowMs)),
            );
          } else {
            finishing.push(() => this.forget(member));
          }
          break;
        }
        case 'hold':
        case 'raise-suspect':
          // The confirmation never produces these; keep the suspect and look again rather than lose it.
          await retry(settings.confirmDelayMs);
          break;
      }
    }
    const result: Decided[] = decided.map(({ decision }) => {
      const records = cancels.get(decision);
      return records === undefined
        ? { decision }
        : { decision, cancels: records.map(({ retryAt: _retryAt, ...r }) => r) };
    });
    return {
      decided: result,
      finish: async () => {
        await Promise.all(finishing.map((f) => f()));
      },
    };
  }

  /**
   * Sends the cancels of these decisions together, right after their symbol's last look: no gap
   * between one cancel and the next in which the position could reopen. Shadow mode sends none.
   */
  private async cancelAll(decisions: readonly Decision[]): Promise<void> {
    const { deps, exchange, settings } = this;
    const { telemetry } = deps;
    const cancelling = decisions.filter(
      (d): d is Extract<Decision, { kind: 'cancel-orphans' }> => d.kind === 'cancel-orphans',
    );
    await Promise.all(
      cancelling.map(async (decision) => {
        if (settings.shadow) {
          telemetry.count(Metric.ShadowCancelsSkipped, decision.orders.length);
          this.cancels.set(
            decision,
            decision.orders.map((o) => ({
              orderId: o.orderId,
              status: 'skipped-shadow',
              detail: 'shadow mode',
            })),
          );
          return;
        }
        const outcomes = await Promise.all(
          decision.orders.map((o) => exchange.cancelOrder(o.symbol, o.orderId)),
        );
        telemetry.count(Metric.CancelsExecuted, outcomes.filter((o) => o.status !== 'failed').length);
        this.cancels.set(
          decision,
          outcomes.map((o) =>
            o.status === 'cancelled'
              ? { orderId: o.orderId, status: o.status }
              : o.status === 'failed'
                ? {
                    orderId: o.orderId,
                    status: o.status,
                    detail: o.detail,
                    ...(o.retryAt === undefined ? {} : { retryAt: o.retryAt }),
                  }
                : { orderId: o.orderId, status: o.status, detail: o.detail },
          ),
        );
      }),
    );
  }

  /** Schedules a member's next look, unless its claim was lost meanwhile (then its new holder does). */
  /**
   * Schedules the suspect's next look. One left `undecided` (the decision that left it so) that is
   * stuck is looked at every `stuckLookMs` instead, and alarmed once, when it becomes stuck.
   */
  private async retry(member: Member, delayMs: number, undecided?: Decision): Promise<void> {
    const { deps, settings } = this;
    const now = deps.clock.now();
    const stuck = undecided !== undefined && isStuck(member.held, now, settings);
    const becameStuck = stuck && member.held.stuckSince === undefined;
    const waitMs = stuck ? Math.max(delayMs, settings.stuckLookMs) : delayMs;
    const after = suspectAfterAttempt(member.held, member.input.snapshot, now + waitMs);
    const next = becameStuck ? { ...after, stuckSince: now } : after;
    if (!(await deps.store.updateSuspect(next, member.held))) {
      const { accountId, symbol, positionIdx } = member.held;
      deps.telemetry.log(
        'warn',
        `lost the claim on ${symbol}#${positionIdx} while scheduling its next look: a check saw the position open again, or another delivery retook it after the lease; did nothing more`,
        { accountId, symbol, positionIdx, attempt: member.held.attempts },
      );
      return;
    }
    if (becameStuck && undecided !== undefined) reportStuck(deps, next, undecided, settings.stuckLookMs);
    await deps.queue.sendConfirm(confirmMessageFor(next), waitMs);
  }

  /** The suspect ends, if this pass still holds it (otherwise its new holder decides). */
  private endSuspect(member: Member): Promise<boolean> {
    return this.deps.store.deleteSuspect(member.claimed, member.held);
  }

  /**
   * The position's close is dealt with: the suspect ends, and the ledger entry goes unless it holds a
   * newer state than the one proven closed (a reopen registered meanwhile stays tracked).
   */
  private async forget(member: Member): Promise<void> {
    if (!(await this.endSuspect(member))) return;
    const { position } = member.claimed;
    // The bot's word on the closed position's stop ends with it; a reopen registered since keeps its own.
    await Promise.all([
      this.deps.store.removeTracked(member.claimed, position),
      member.intended ? this.deps.store.removeIntent(member.claimed, position.stateUpdatedAt) : undefined,
    ]);
  }
}

function untilNextWindow(now: number, windowMs: number): number {
  return windowMs - (now % windowMs);
}

/** One alarm for a suspect that became stuck, naming it and what to do. */
function reportStuck(deps: ReconcilerDeps, suspect: SuspectRecord, decision: Decision, lookMs: number): void {
  const { accountId, symbol, positionIdx, attempts, firstMissingAt } = suspect;
  const minutes = Math.round((deps.clock.now() - firstMissingAt) / 60_000);
  deps.telemetry.count(Metric.SuspectsStuck);
  deps.telemetry.log(
    'error',
    `STUCK: ${symbol}#${positionIdx} on ${accountId} is still undecided after ${attempts} attempts over ${minutes} min (last: ${decision.message}); its orders are kept and it is now looked at every ${Math.round(lookMs / 60_000)} min until evidence arrives or an operator retries or forgets it`,
    {
      accountId,
      symbol,
      positionIdx,
      decision: 'suspect-stuck',
      reason: decision.reason,
      attempts,
      firstMissingAt,
    },
  );
}
