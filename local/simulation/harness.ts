/**
 * The deterministic simulation's entry point: one strategy over one seeded world of traders and a
 * faulty venue, on a virtual clock, cycle by cycle, then judged (see simulation-result.ts).
 */

import type { AccountRecord } from '#contracts/account-record.js';
import { defaultSettings, type ReconcileSettings } from '#contracts/settings.js';
import { BaselineRunner } from './baseline-runner.js';
import type { InfraFaults, Strategy } from './runner.js';
import { type SimulationResult, summarize } from './simulation-result.js';
import { StopguardRunner } from './stopguard-runner.js';
import { TraderWorld, type WorkloadOptions } from './traders.js';
import { SimVenue } from './venue.js';
import { noFaults, type VenueFaults } from './venue-faults.js';
import { START, VirtualClock } from './virtual-clock.js';

/** One run: which strategy, how many accounts and cycles, and how the venue and infrastructure misbehave. */
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
   * Most cycles run after the main ones with every fault switched off, fewer once no real orphan is
   * left. Liveness is judged after them: once the exchange behaves, every real orphan must be gone.
   * Default 60 (ten minutes at 10 s cadence).
   */
  readonly healCycles?: number;
  /** Whether the simulated bot registers each position it opens (default true). */
  readonly registerOnOpen?: boolean;
  /** The accounts' protection audit mode for stopguard (default: alarm only). */
  readonly protection?: AccountRecord['protection'];
  /** Keep every audited decision in the result (for replaying a failing seed; costs memory). */
  readonly keepAudit?: boolean;
}

/**
 * Runs one strategy over one seeded world on a virtual clock. Stopguard runs through the real
 * orchestration (`runCheck`, `runConfirm`) with in-memory ports (stopguard-runner.ts); the baselines
 * are the incident's rules (baseline-runner.ts).
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
    venue.onOpen = (accountId, position) =>
      runner.register(
        accountId,
        position,
        venue.protection.isIntentional(accountId, position.symbol, position.positionIdx),
      );
  }
  for (const id of accountIds) world.addAccount(id);

  const maxHealCycles = options.healCycles ?? 60;
  let pendingBeforeHealing = 0;
  let healCycles = 0;
  for (let cycle = 1; cycle <= options.cycles + maxHealCycles; cycle++) {
    if (cycle === options.cycles + 1) {
      pendingBeforeHealing = venue.pendingOrphans().length;
      venue.faults = noFaults;
      runner.heal();
    }
    if (cycle > options.cycles) {
      // Healing ends once no real orphan is left: what remains after the longest heal is never cleaned.
      if (venue.pendingOrphans().every((o) => o.reopenedAt !== undefined)) break;
      healCycles++;
    }
    const cycleStart = START + cycle * settings.cadenceMs;
    clock.time = cycleStart;
    // no new positions open or close while healing: what is judged is the backlog
    if (cycle <= options.cycles) world.step(cycle);
    venue.observeProtection(accountIds);
    for (const accountId of accountIds) await runner.check(accountId);
    await runner.drainUntil(cycleStart + settings.cadenceMs);
  }

  venue.protection.finish(clock.now());
  return summarize(options, settings, venue, runner, pendingBeforeHealing, healCycles);
}
