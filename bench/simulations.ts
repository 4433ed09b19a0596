import { runSimulation } from '#local/simulation/harness.js';
import type { Strategy } from '#local/simulation/runner.js';
import type { SimulationResult } from '#local/simulation/simulation-result.js';
import type { WorkloadOptions } from '#local/simulation/traders.js';
import { noFaults, type VenueFaults } from '#local/simulation/venue-faults.js';
import type { VenueCalls } from '#local/simulation/venue-records.js';

/**
 * One deterministic simulation run as the bench measures it: the drop rates, strategies and workloads
 * it compares, and the figures it takes from each run.
 */

/** The drop rates compared, each over the same seeded worlds for every strategy. */
export const SCENARIOS: readonly { readonly name: string; readonly faults: VenueFaults }[] = [
  { name: '0 %', faults: noFaults },
  { name: '2 %', faults: { ...noFaults, dropProbability: 0.02 } },
  { name: '20 %', faults: { ...noFaults, dropProbability: 0.2, maxDropped: 3 } },
  {
    name: 'correlated 5 %',
    faults: { ...noFaults, dropProbability: 0.05, correlatedDropMs: 30_000, recheckLieProbability: 0.2 },
  },
];

export const STRATEGIES: readonly Strategy[] = ['naive', 'two-fetch', 'stopguard'];

type Workload = Pick<WorkloadOptions, 'meanLifetimeCycles' | 'meanFlatCycles'>;

/** At the simulation's 10 s cadence: 60 cycles are 10 minutes, 360 cycles an hour. */
export const WORKLOADS = {
  /** The harness's default: every position closes within minutes, a stress test for cleanup. */
  'heavy churn': { meanLifetimeCycles: 60, meanFlatCycles: 20 },
  /** Positions live an hour on average and a slot stays flat half an hour before the next trade. */
  realistic: { meanLifetimeCycles: 360, meanFlatCycles: 180 },
  /** Nothing ever closes: the steady state, where a check is all there is. */
  steady: { meanLifetimeCycles: 1e12, meanFlatCycles: 20 },
} as const satisfies Record<string, Workload>;
export type WorkloadName = keyof typeof WORKLOADS;

/** The harness's default number of fault-free cycles run after the main ones (checked too). */
const HEAL_CYCLES = 60;

export interface RunFigures {
  readonly workload: string;
  readonly scenario: string;
  readonly strategy: Strategy;
  readonly seed: number;
  readonly result: SimulationResult;
  /** Checks run, healing cycles included: the denominator of every per-account-cycle cost. */
  readonly checks: number;
  /** Exchange calls by endpoint, counted by the simulated venue. */
  readonly calls: VenueCalls;
  /** Positions that closed with protective orders left behind. */
  readonly closes: number;
  /** DynamoDB reads as the harness counts them: the store's operations (one Query per check). */
  readonly storeReads: number;
  /**
   * Account-record reads (a GetItem each on AWS): one per check, per confirmation and per registration,
   * counted apart from the store's operations.
   */
  readonly accountReads: number;
  /** Seconds from each orphan's close to its cancel. */
  readonly cleanupDelaysSeconds: readonly number[];
}

export async function measureRun(input: {
  readonly workload: WorkloadName;
  readonly scenario: (typeof SCENARIOS)[number];
  readonly strategy: Strategy;
  readonly seed: number;
  readonly accounts: number;
  readonly cycles: number;
  /** Overrides the named workload's shape (the churn sweep). */
  readonly shape?: Workload;
  /** Most fault-free cycles after the main ones (default 60, the harness's own default). */
  readonly healCycles?: number;
}): Promise<RunFigures> {
  const healCycles = input.healCycles ?? HEAL_CYCLES;
  const result = await runSimulation({
    seed: input.seed,
    strategy: input.strategy,
    accounts: input.accounts,
    cycles: input.cycles,
    faults: input.scenario.faults,
    workload: input.shape ?? WORKLOADS[input.workload],
    healCycles,
  });
  return {
    workload: input.workload,
    scenario: input.scenario.name,
    strategy: input.strategy,
    seed: input.seed,
    result,
    checks: result.checksRun,
    calls: result.exchangeCalls,
    closes: result.closes,
    storeReads: Math.round(result.storeReadsPerAccountCycle * result.checksRun),
    accountReads: Math.round(result.accountReadsPerAccountCycle * result.checksRun),
    cleanupDelaysSeconds: result.cleanupDelaysSeconds,
  };
}

export const totalCalls = (c: VenueCalls) =>
  c.list + c.recheck + c.history + c.closedPnl + c.orders + c.cancel;

/** Counts per fixed-width bucket; the last bucket gathers everything at or above `buckets × width`. */
export function bucketize(values: readonly number[], width: number, buckets: number): number[] {
  const counts = Array.from({ length: buckets + 1 }, () => 0);
  for (const v of values) {
    const i = Math.min(buckets, Math.max(0, Math.floor(v / width)));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}
