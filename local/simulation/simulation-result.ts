/** One run's result, summarised from the venue's ground truth and the runner's counts. */

import type { ReconcileSettings } from '#contracts/settings.js';
import type { AuditEntry } from '#ports/audit.js';
import type { Runner, Strategy } from './runner.js';
import { StopguardRunner } from './stopguard-runner.js';
import type { SimVenue } from './venue.js';
import type { VenueCalls } from './venue-records.js';
import { START } from './virtual-clock.js';

/** The outcome and the cost of one run of one strategy. */
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
  /** Times the fleet's address was banned for exceeding the venue's per-address limit. */
  readonly ipBans: number;
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
  /** Account-record reads per account-cycle (stopguard's checks, confirmations and registrations; 0 for the baselines). */
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
  /** The protection audit against the venue's truth (core/protection.ts, venue-protection.ts). */
  readonly protection: {
    /** Episodes of a live position without a stop, longer than the grace plus 2 cycles. */
    readonly episodesLongEnough: number;
    /** Of those, judged unprotected while it lasted. */
    readonly found: number;
    /** Of those, never judged: must be 0 for stopguard. */
    readonly missed: number;
    /** Alarms on a position that had its stop, or none by design: must be 0. */
    readonly falseAlarms: number;
    /** From the stop's disappearance to the alarm, in cycles. */
    readonly detectionDelayCycles: { readonly p50: number; readonly p99: number };
    /** How long positions stayed without a stop (every episode), in cycles. */
    readonly unprotectedCycles: { readonly p50: number; readonly p99: number };
    readonly stopsPlaced: number;
    /** Stops placed on a position already protected, or closed: must be 0. */
    readonly misplacedStops: number;
    /** Order listings the audit needed, per check. */
    readonly listingsPerAccountCycle: number;
  };
  /** Human-readable breaches of an invariant, each with what is needed to replay it. */
  readonly violations: readonly string[];
  readonly audit?: readonly AuditEntry[];
}

/** The parts of a run's options its summary reports. */
export interface RunIdentity {
  readonly strategy: Strategy;
  readonly seed: number;
  readonly accounts: number;
  readonly cycles: number;
  readonly keepAudit?: boolean;
}

/** Judges one finished run: the venue's ground truth, the runner's counts, and the costs per check. */
export function summarize(
  options: RunIdentity,
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
  const totalCalls =
    calls.list + calls.recheck + calls.history + calls.closedPnl + calls.orders + calls.cancel + calls.place;
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
  const truth = venue.protection;
  const graceCycles = settings.protectionGraceMs / settings.cadenceMs;
  const long = truth.episodes.filter(
    (e) => ((e.end ?? e.start) - e.start) / settings.cadenceMs > graceCycles + 2,
  );
  const found = long.filter((e) => e.foundAt !== undefined);
  const sortedCycles = (values: number[]) => values.map((v) => v / settings.cadenceMs).sort((a, b) => a - b);
  const detection = sortedCycles(
    truth.episodes.filter((e) => e.foundAt !== undefined).map((e) => (e.foundAt ?? 0) - e.start),
  );
  const unprotectedFor = sortedCycles(truth.episodes.map((e) => (e.end ?? e.start) - e.start));
  // A miss is reported, not a breach: under heavy faults a position may get no complete look for a
  // while. The stops-removed profile's target (missed 0) is asserted by its own test.
  if (options.strategy === 'stopguard') {
    if (truth.falseAlarms > 0)
      violations.push(`protection false alarms: ${truth.falseAlarms} (seed=${options.seed})`);
    if (truth.misplacedStops > 0)
      violations.push(`stops placed on protected or closed positions: ${truth.misplacedStops}`);
  }
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
    ipBans: venue.limits.bans,
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
    protection: {
      episodesLongEnough: long.length,
      found: found.length,
      missed: long.length - found.length,
      falseAlarms: truth.falseAlarms,
      detectionDelayCycles: { p50: percentile(detection, 0.5), p99: percentile(detection, 0.99) },
      unprotectedCycles: { p50: percentile(unprotectedFor, 0.5), p99: percentile(unprotectedFor, 0.99) },
      stopsPlaced: truth.stopsPlaced,
      misplacedStops: truth.misplacedStops,
      listingsPerAccountCycle: s.protectionListings / checkedCycles,
    },
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
