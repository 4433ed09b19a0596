import { bybitMarketRules } from '#adapters/bybit/symbols.js';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import type { AccountRecord } from '#contracts/account-record.js';
import type { WorkMessage } from '#contracts/messages.js';
import { defaultSettings, type ReconcileSettings } from '#contracts/settings.js';
import { positionIdOf } from '#core/keys.js';
import type { ObservedPosition } from '#core/types.js';
import { runCheck } from '#orchestration/check.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { runRegister } from '#orchestration/register.js';
import type { AuditEntry } from '#ports/audit.js';
import type { Clock } from '#ports/clock.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { hashUnit } from './hash-random.js';
import { TraderWorld, type WorkloadOptions } from './traders.js';
import { noFaults, SimVenue, type VenueCalls, type VenueFaults } from './venue.js';

export type Strategy = 'stopguard' | 'naive' | 'two-fetch';

/** Faults of the machinery around the core, not of the exchange. */
export interface InfraFaults {
  /** A message is delivered twice (SQS is at-least-once). */
  readonly duplicateDelivery: number;
  /** The worker dies after taking cap slots and before cancelling; SQS redelivers later. */
  readonly crashBeforeCancel: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly strategy: Strategy;
  readonly accounts: number;
  readonly cycles: number;
  readonly faults: VenueFaults;
  readonly infra?: InfraFaults;
  readonly workload?: Partial<Omit<WorkloadOptions, 'seed'>>;
  readonly settings?: Partial<ReconcileSettings>;
  /**
   * Cycles run after the main ones with every fault switched off. Liveness is judged after them: once
   * the exchange behaves, every real orphan must be gone. Default 60 (ten minutes at 10 s cadence).
   */
  readonly healCycles?: number;
  /** Whether the simulated bot registers each position it opens (default true). */
  readonly registerOnOpen?: boolean;
  /** Keep every audited decision in the result (for replaying a failing seed; costs memory). */
  readonly keepAudit?: boolean;
}

export interface SimulationResult {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly accountCycles: number;
  readonly falseCancels: number;
  readonly trueOrphans: number;
  readonly orphansCleaned: number;
  /** Orphans still resting when the faults stopped (work in progress, not a defect). */
  readonly orphansPendingBeforeHealing: number;
  /** Orphans still resting after the healing cycles: stopguard lost track of them. Must be 0. */
  readonly orphansNeverCleaned: number;
  /** Orphans whose position reopened before cleanup: they rest on a live position now, so stay. */
  readonly orphansAdoptedByReopen: number;
  /** Positions the venue reopened under a confirmation (the `reopenBetweenCalls` fault). */
  readonly reopensInjected: number;
  readonly cleanupDelayCycles: { readonly p50: number; readonly p99: number; readonly max: number };
  /** How many orphans were cleaned after each whole number of cycles (index = cycles): the distribution. */
  readonly cleanupDelayHistogram: readonly number[];
  /** Seconds from each cleaned orphan's close to its cancel. */
  readonly cleanupDelaysSeconds: readonly number[];
  /** Exchange calls by endpoint (their sum over the checks run is `exchangeCallsPerAccountCycle`). */
  readonly exchangeCalls: Readonly<VenueCalls>;
  /** Checks run: accounts × (cycles + healing cycles), the denominator of the per-cycle costs. */
  readonly checksRun: number;
  /** Positions that closed leaving protective orders behind. */
  readonly closes: number;
  /** Account-record reads per account-cycle (stopguard's confirmations; 0 for the baselines). */
  readonly accountReadsPerAccountCycle: number;
  readonly exchangeCallsPerAccountCycle: number;
  readonly storeReadsPerAccountCycle: number;
  readonly storeWritesPerAccountCycle: number;
  readonly suspectsRaised: number;
  readonly suspectsCleared: number;
  readonly keptForLackOfEvidence: number;
  readonly capRefusals: number;
  readonly distrustedSnapshots: number;
  readonly crashes: number;
  /** Human-readable breaches of an invariant, each with what is needed to replay it. */
  readonly violations: readonly string[];
  readonly audit?: readonly AuditEntry[];
}

export class VirtualClock implements Clock {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
}

export const START = Date.UTC(2026, 0, 5, 0, 0, 0);

/** The work queue's visibility timeout: longer than the claim lease, so a redelivery can re-claim. */
const VISIBILITY_TIMEOUT_MS = 90_000;

/**
 * Runs one strategy over one seeded world on a virtual clock. Stopguard runs through the real
 * orchestration (`runCheck`, `runConfirm`) with in-memory ports; the baselines are the incident's
 * rules, written plainly below.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const settings: ReconcileSettings = { ...defaultSettings, ...options.settings };
  const clock = new VirtualClock(START);
  const venue = new SimVenue(options.seed, clock, options.faults);
  const world = new TraderWorld(venue, {
    seed: options.seed,
    positionsPerAccount: 4,
    meanLifetimeCycles: 60,
    meanFlatCycles: 20,
    hedgeShare: 0.25,
    ...options.workload,
  });
  const accountIds = Array.from({ length: options.accounts }, (_, i) => `acct-${i + 1}`);
  const runner =
    options.strategy === 'stopguard'
      ? new StopguardRunner(options, settings, clock, venue, accountIds, options.keepAudit)
      : new BaselineRunner(options.strategy, settings, clock, venue);
  if (runner instanceof StopguardRunner && options.registerOnOpen !== false) {
    venue.onOpen = (accountId, position) => runner.register(accountId, position);
  }
  for (const id of accountIds) world.addAccount(id);

  const healCycles = options.healCycles ?? 60;
  let pendingBeforeHealing = 0;
  for (let cycle = 1; cycle <= options.cycles + healCycles; cycle++) {
    if (cycle === options.cycles + 1) {
      pendingBeforeHealing = venue.pendingOrphans().length;
      venue.faults = noFaults;
      runner.heal();
    }
    const cycleStart = START + cycle * settings.cadenceMs;
    clock.time = cycleStart;
    // no new positions open or close while healing: what is judged is the backlog
    if (cycle <= options.cycles) world.step(cycle);
    for (const accountId of accountIds) await runner.check(accountId);
    await runner.drainUntil(cycleStart + settings.cadenceMs);
  }

  return summarize(options, settings, venue, runner, pendingBeforeHealing, healCycles);
}

interface Runner {
  check(accountId: string): Promise<void>;
  /** Switches the runner's own (infrastructure) faults off. */
  heal(): void;
  drainUntil(time: number): Promise<void>;
  readonly stats: {
    suspectsRaised: number;
    suspectsCleared: number;
    kept: number;
    capRefusals: number;
    distrusted: number;
    crashes: number;
    reads: number;
    writes: number;
    /** Account-record reads (confirmations read the record fresh; a GetItem each on AWS). */
    accountReads: number;
  };
}

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

  heal(): void {
    this.healed = true;
  }

  constructor(
    private readonly options: Pick<SimulationOptions, 'seed' | 'infra'>,
    settings: ReconcileSettings,
    private readonly clock: VirtualClock,
    venue: SimVenue,
    accountIds: readonly string[],
    keepAudit = false,
  ) {
    this.queue = new MemoryQueue(clock);
    this.audit = new MemoryAudit(keepAudit);
    for (const accountId of accountIds) {
      this.accounts.set(accountId, {
        accountId,
        enabled: true,
        credentialsRef: `sim/${accountId}`,
        exchange: { category: 'linear', settleCoins: ['USDT'] },
      });
    }
    for (const record of this.accounts.values()) this.directory.put(record);
    const sessions = new Map<string, ExchangeSession>();
    let ids = 0;
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
      accounts: this.directory,
      store: this.store,
      cap: {
        acquire: (accountId, slots, now, accountLimit) => {
          venue.maybeReopen(accountId);
          return cap.acquire(accountId, slots, now, accountLimit);
        },
      },
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
    };
  }

  /** The bot's registration of a position it opened (delivered at once, like a direct API call). */
  register(accountId: string, position: ObservedPosition): void {
    const { sequence: _exchangeOnly, ...rest } = position;
    this.pendingRegistrations.push(
      runRegister(
        { ...this.deps, market: bybitMarketRules },
        {
          type: 'register',
          accountId,
          position: rest,
        },
      ),
    );
  }

  async check(accountId: string): Promise<void> {
    await Promise.all(this.pendingRegistrations.splice(0));
    if (!this.accounts.has(accountId)) return;
    await this.deliver({ type: 'check', accountId, slot: this.slot++ });
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
        return runCheck(this.deps, message);
      case 'confirm':
        return runConfirm(this.deps, message);
    }
  }
}

/**
 * The incident's rules. `naive`: a tracked position missing from one list is closed; cancel its
 * orders. `two-fetch`: the incident report's first layer; a second list after the confirm delay must
 * agree. Both treat a failed fetch as "skip", which is generous to them.
 */
class BaselineRunner implements Runner {
  private readonly tracked = new Map<string, Set<string>>();
  private readonly pendingSecondLook: { accountId: string; id: string; at: number }[] = [];

  heal(): void {}
  readonly stats = {
    suspectsRaised: 0,
    suspectsCleared: 0,
    kept: 0,
    capRefusals: 0,
    distrusted: 0,
    crashes: 0,
    reads: 0,
    writes: 0,
    accountReads: 0,
  };

  constructor(
    private readonly strategy: 'naive' | 'two-fetch',
    private readonly settings: ReconcileSettings,
    private readonly clock: VirtualClock,
    private readonly venue: SimVenue,
  ) {}

  async check(accountId: string): Promise<void> {
    const snapshot = this.venue.list(accountId);
    if (snapshot.status !== 'complete') return;
    const seen = new Set(snapshot.positions.map(positionIdOf));
    const tracked = this.tracked.get(accountId) ?? new Set<string>();
    for (const id of tracked) {
      if (seen.has(id)) continue;
      if (this.strategy === 'naive') this.cancelAll(accountId, id);
      else if (!this.pendingSecondLook.some((p) => p.accountId === accountId && p.id === id)) {
        this.stats.suspectsRaised++;
        this.pendingSecondLook.push({ accountId, id, at: this.clock.now() + this.settings.confirmDelayMs });
      }
    }
    for (const id of seen) tracked.add(id);
    this.tracked.set(accountId, tracked);
  }

  async drainUntil(time: number): Promise<void> {
    this.pendingSecondLook.sort((a, b) => a.at - b.at);
    while (this.pendingSecondLook.length > 0 && (this.pendingSecondLook[0]?.at ?? time) < time) {
      const look = this.pendingSecondLook.shift();
      if (look === undefined) break;
      this.clock.time = Math.max(this.clock.time, look.at);
      const snapshot = this.venue.list(look.accountId);
      if (snapshot.status !== 'complete') continue;
      if (snapshot.positions.some((p) => positionIdOf(p) === look.id)) this.stats.suspectsCleared++;
      else this.cancelAll(look.accountId, look.id);
    }
    this.clock.time = time;
  }

  private cancelAll(accountId: string, id: string): void {
    const [symbol = '', idx = '0'] = id.split('#');
    const positionIdx = Number(idx) as 0 | 1 | 2;
    const orders = this.venue.listOrders(accountId, symbol, positionIdx);
    if (orders.status === 'known') for (const o of orders.orders) this.venue.cancel(accountId, o.orderId);
    this.tracked.get(accountId)?.delete(id);
  }
}

function summarize(
  options: SimulationOptions,
  settings: ReconcileSettings,
  venue: SimVenue,
  runner: Runner,
  pendingBeforeHealing: number,
  healCycles: number,
): SimulationResult {
  const accountCycles = options.accounts * options.cycles;
  // Costs are per check actually run: the healing cycles check every account too.
  const checkedCycles = options.accounts * (options.cycles + healCycles);
  const orphans = [...venue.orphans.values()];
  const delays = orphans
    .filter((o) => o.cleanedAt !== undefined)
    .map((o) => ((o.cleanedAt ?? 0) - o.orphanedAt) / settings.cadenceMs)
    .sort((a, b) => a - b);
  const pending = venue.pendingOrphans();
  const adoptedByReopen = pending.filter((o) => o.reopenedAt !== undefined);
  const neverCleaned = pending.filter((o) => o.reopenedAt === undefined);
  const calls = venue.calls;
  const totalCalls = calls.list + calls.recheck + calls.history + calls.orders + calls.cancel;
  const violations: string[] = [];
  for (const fc of venue.falseCancels.slice(0, 5)) {
    violations.push(
      `false cancel: ${options.strategy} seed=${options.seed} cancelled ${fc.orderId} of open ${fc.symbol}#${fc.positionIdx} on ${fc.accountId} at +${(fc.at - START) / 1000} s`,
    );
  }
  if (options.strategy === 'stopguard') {
    for (const o of neverCleaned.slice(0, 5)) {
      violations.push(
        `orphan never cleaned: seed=${options.seed} order ${o.orderId} of ${o.symbol}#${o.positionIdx} on ${o.accountId}, orphaned at +${(o.orphanedAt - START) / 1000} s`,
      );
    }
  }
  const s = runner.stats;
  return {
    strategy: options.strategy,
    seed: options.seed,
    accountCycles,
    falseCancels: venue.falseCancels.length,
    trueOrphans: orphans.length,
    orphansCleaned: orphans.length - pending.length,
    orphansPendingBeforeHealing: pendingBeforeHealing,
    orphansNeverCleaned: neverCleaned.length,
    orphansAdoptedByReopen: adoptedByReopen.length,
    reopensInjected: venue.reopens,
    cleanupDelayCycles: {
      p50: percentile(delays, 0.5),
      p99: percentile(delays, 0.99),
      max: delays[delays.length - 1] ?? 0,
    },
    cleanupDelayHistogram: histogram(delays),
    cleanupDelaysSeconds: delays.map((cycles) => (cycles * settings.cadenceMs) / 1000),
    exchangeCalls: { ...calls },
    checksRun: checkedCycles,
    closes: venue.closes,
    accountReadsPerAccountCycle: runner.stats.accountReads / checkedCycles,
    exchangeCallsPerAccountCycle: totalCalls / checkedCycles,
    storeReadsPerAccountCycle: s.reads / checkedCycles,
    storeWritesPerAccountCycle: s.writes / checkedCycles,
    suspectsRaised: s.suspectsRaised,
    suspectsCleared: s.suspectsCleared,
    keptForLackOfEvidence: s.kept,
    capRefusals: s.capRefusals,
    distrustedSnapshots: s.distrusted,
    crashes: s.crashes,
    violations,
    ...(runner instanceof StopguardRunner && options.keepAudit ? { audit: runner.auditEntries } : {}),
  };
}

function histogram(values: readonly number[]): number[] {
  const counts: number[] = [];
  for (const v of values) {
    const bucket = Math.max(0, Math.floor(v));
    while (counts.length <= bucket) counts.push(0);
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return counts;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export { noFaults };
