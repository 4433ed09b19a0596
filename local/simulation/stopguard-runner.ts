/** Stopguard's side of the simulation: its real orchestration on in-memory ports and the simulated venue. */

import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import type { AccountRecord } from '#contracts/account-record.js';
import type { WorkMessage } from '#contracts/messages.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import type { ObservedPosition } from '#core/types.js';
import { runCheck } from '#orchestration/check.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { runRegister } from '#orchestration/register.js';
import { spreadOffset } from '#orchestration/schedule.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { fleetBudgetOf } from '#ports/fleet.js';
import { Metric } from '#ports/telemetry.js';
import { hashUnit } from './hash-random.js';
import type { InfraFaults, Runner } from './runner.js';
import type { SimVenue } from './venue.js';
import type { VirtualClock } from './virtual-clock.js';

/** The work queue's visibility timeout: longer than the claim lease, so a redelivery can re-claim. */
const VISIBILITY_TIMEOUT_MS = 90_000;

/** Stopguard's real orchestration wired to in-memory ports and a simulated venue, driven on a virtual clock. */
export class StopguardRunner implements Runner {
  private readonly queue: MemoryQueue;
  private readonly telemetry = new MemoryTelemetry(false);
  private readonly store = new MemoryStore();
  private readonly audit: MemoryAudit;
  private readonly deps: ReconcilerDeps;
  private readonly accounts = new Map<string, AccountRecord>();
  private readonly directory = new MemoryAccounts();
  private readonly receives = new Map<string, number>();
  private readonly pendingRegistrations: Promise<unknown>[] = [];
  private slot = 0;
  private healed = false;
  crashes = 0;

  private readonly cadenceMs: number;

  heal(): void {
    this.healed = true;
  }

  constructor(
    private readonly options: {
      readonly seed: number;
      readonly infra?: InfraFaults;
      /** The accounts' protection audit mode (default: alarm only). */
      readonly protection?: AccountRecord['protection'];
    },
    settings: ReconcileSettings,
    private readonly clock: VirtualClock,
    private readonly venue: SimVenue,
    accountIds: readonly string[],
    keepAudit = false,
  ) {
    this.cadenceMs = settings.cadenceMs;
    this.queue = new MemoryQueue(clock);
    this.audit = new MemoryAudit(keepAudit);
    for (const accountId of accountIds) {
      this.accounts.set(accountId, {
        accountId,
        enabled: true,
        credentialsRef: `sim/${accountId}`,
        exchange: { category: 'linear', settleCoins: ['USDT'] },
        ...(options.protection === undefined ? {} : { protection: options.protection }),
      });
    }
    for (const record of this.accounts.values()) this.directory.put(record);
    const sessions = new Map<string, ExchangeSession>();
    let ids = 0;
    let draws = 0;
    const cap = new MemoryCap({
      perAccount: settings.capPerAccount,
      global: settings.capGlobal,
      windowMs: settings.capWindowMs,
    });
    // The venue may reopen a position between the confirmation's store steps too, not only between its
    // exchange calls: between the orders fetch and the cancels lie the cap and the claim renewal.
    const renew = this.store.renewClaimBeforeCancel.bind(this.store);
    this.store.renewClaimBeforeCancel = (next, current, proven) => {
      venue.maybeReopen(current.accountId);
      return renew(next, current, proven);
    };
    this.deps = {
      clock,
      ids: { next: (prefix) => `${prefix}-${ids++}` },
      // Seeded: a replayed seed draws the same jitter in the same order.
      random: { next: () => hashUnit(options.seed, 'jitter', draws++) },
      accounts: this.directory,
      store: this.store,
      cap: {
        acquire: (accountId, slots, now, accountLimit) => {
          venue.maybeReopen(accountId);
          return cap.acquire(accountId, slots, now, accountLimit);
        },
      },
      placementCap: new MemoryCap({
        perAccount: settings.placementCapPerAccount,
        global: settings.placementCapGlobal,
        windowMs: settings.capWindowMs,
      }),
      fleet: new MemoryFleetGuard(fleetBudgetOf(settings.fleetRequestsPer5s)),
      queue: this.queue,
      audit: this.audit,
      telemetry: this.telemetry,
      settings,
      exchangeFor: async (account) => {
        let session = sessions.get(account.accountId);
        if (session === undefined) {
          session = this.withCrashes(venue.session(account.accountId), account.accountId);
          sessions.set(account.accountId, session);
        }
        return session;
      },
    };
  }

  /** Makes the worker die, with the configured probability, after the cap and before the cancel. */
  private withCrashes(session: ExchangeSession, accountId: string): ExchangeSession {
    const p = this.options.infra?.crashBeforeCancel ?? 0;
    if (p <= 0) return session;
    return {
      ...session,
      cancelOrder: async (symbol, orderId) => {
        if (!this.healed && hashUnit(this.options.seed, accountId, 'crash', orderId, this.clock.now()) < p) {
          this.crashes++;
          throw new Error('simulated worker crash between cap and cancel');
        }
        return session.cancelOrder(symbol, orderId);
      },
    };
  }

  /** Every decision audited so far (kept only when asked for, to spare memory in long runs). */
  get auditEntries() {
    return this.audit.entries;
  }

  get stats() {
    const t = this.telemetry;
    return {
      suspectsRaised: t.countOf(Metric.SuspectsRaised),
      suspectsCleared: t.countOf(Metric.IncompleteResponsesObserved),
      kept: t.countOf(Metric.KeptForLackOfEvidence),
      capRefusals: t.countOf(Metric.CapRefusals),
      distrusted: t.countOf(Metric.DistrustedSnapshots),
      crashes: this.crashes,
      reads: this.store.ops.reads,
      writes: this.store.ops.writes,
      accountReads: this.directory.ops.reads,
      protectionListings: t.countOf(Metric.ProtectionOrderListings),
    };
  }

  /** The bot's registration of a position it opened (delivered at once, like a direct API call). */
  register(accountId: string, position: ObservedPosition, noStopIntended = false): void {
    const { sequence: _exchangeOnly, protection: _listed, ...rest } = position;
    this.pendingRegistrations.push(
      runRegister(
        { ...this.deps, market: bybitMarketRules },
        {
          type: 'register',
          accountId,
          position: noStopIntended ? { ...rest, noStopIntended } : rest,
        },
      ),
    );
  }

  async check(accountId: string): Promise<void> {
    await Promise.all(this.pendingRegistrations.splice(0));
    if (!this.accounts.has(accountId)) return;
    // At the account's place in the cycle, as the scheduler spreads them: a fleet's checks do not all
    // hit the exchange (and the fleet's request budget) in the same instant.
    await this.queue.sendChecks([
      {
        message: { type: 'check', accountId, slot: this.slot++ },
        delayMs: spreadOffset(accountId, this.cadenceMs),
      },
    ]);
  }

  async drainUntil(time: number): Promise<void> {
    for (;;) {
      const due = this.queue.nextDueAt();
      if (due === undefined || due >= time) break;
      this.clock.time = Math.max(this.clock.time, due);
      for (const { message } of this.queue.takeDue(this.clock.time)) await this.deliver(message);
    }
    this.clock.time = time;
  }

  private async deliver(message: WorkMessage): Promise<void> {
    const body = JSON.stringify(message);
    const duplicate =
      !this.healed &&
      hashUnit(this.options.seed, 'dup', body, this.clock.now()) <
        (this.options.infra?.duplicateDelivery ?? 0);
    try {
      await this.handle(message);
      if (duplicate) await this.handle(message);
      this.receives.delete(body);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('simulated'))) throw error;
      // SQS redelivers after the visibility timeout (longer than the claim lease, as in infra/); after
      // three receives the message is dead-lettered and the next check's overdue rule takes over.
      const received = (this.receives.get(body) ?? 0) + 1;
      this.receives.set(body, received);
      if (received < 3) this.queue.push(message, VISIBILITY_TIMEOUT_MS);
      else this.receives.delete(body);
    }
  }

  private handle(message: WorkMessage): Promise<unknown> {
    switch (message.type) {
      case 'check':
        return runCheck(this.deps, message).then((outcome) => {
          for (const d of outcome.decisions) {
            if (d.kind === 'unprotected' || d.kind === 'underprotected') {
              this.venue.protection.alarmed(
                d.key.accountId,
                d.key.symbol,
                d.key.positionIdx,
                this.clock.now(),
              );
            }
          }
          this.venue.protection.alarmsUp(
            message.accountId,
            this.store.watchesOf(message.accountId).filter((w) => w.alarmedAt !== undefined),
          );
        });
      case 'confirm':
        return runConfirm(this.deps, message);
    }
  }
}
