import type { Strategy } from '#local/simulation/runner.js';
import {
  measureRun,
  type RunFigures,
  SCENARIOS,
  STRATEGIES,
  totalCalls,
  WORKLOADS,
  type WorkloadName,
} from './simulations.js';
import { fixed } from './stats.js';

/**
 * The simulation runs behind the summary, the strategies section and the charts: every workload ×
 * drop rate × strategy on one seed, the 2 % runs on further seeds for the call ratio, a churn sweep,
 * and the sweep's cap-bound runs again with a long fault-free tail. Also the per-run figures derived
 * from them (ratios, reads per account-cycle).
 */

export interface SweepPoint {
  /** Mean position life, in cycles (slots stay flat half as long). */
  readonly life: number;
  readonly naive: RunFigures;
  readonly stopguard: RunFigures;
}

export interface SimulationRuns {
  readonly accounts: number;
  readonly cycles: number;
  /** The seed of every table row. */
  readonly seed: number;
  /** The seeds the call-ratio target is also checked on. */
  readonly seeds: readonly number[];
  readonly workloads: readonly WorkloadName[];
  /** The workloads whose call ratio is judged against the target, on every seed. */
  readonly ratioWorkloads: readonly WorkloadName[];
  readonly sweep: readonly SweepPoint[];
  /** Fault-free cycles given to a cap-bound sweep run the second time. */
  readonly drainCycles: number;
  /** The cap-bound sweep runs, run again with `drainCycles` healing cycles, by mean life. */
  readonly drained: ReadonlyMap<number, RunFigures>;
  /** The matrix and seed runs, each once, in the order they ran. */
  readonly matrix: readonly RunFigures[];
  get(workload: WorkloadName, scenario: string, strategy: Strategy, seed?: number): RunFigures;
}

export const ratioOf = (stopguard: RunFigures, naive: RunFigures) =>
  stopguard.result.exchangeCallsPerAccountCycle / naive.result.exchangeCallsPerAccountCycle;
export const perCycle = (n: number, r: RunFigures) => n / r.checks;
/** The store's operations per account-cycle, as the harness counts them. */
export const storeReadsOf = (r: RunFigures) => perCycle(r.storeReads, r);
/** Every DynamoDB read per account-cycle: the store's operations and the account-record GetItems. */
export const dynamoReadsOf = (r: RunFigures) => perCycle(r.storeReads + r.accountReads, r);
/** A run whose closes needed more cancels than the global cap grants (orphans may still be queued at its end). */
export const capBound = (r: RunFigures) => r.result.capRefusals > r.result.suspectsRaised * 0.05;

/** Stopguard's exchange calls over naive's at 2 % drops, every seed pooled. */
export function pooledRatio(runs: SimulationRuns, w: WorkloadName): number {
  const sum = (st: Strategy) =>
    runs.seeds.reduce((n, seed) => n + totalCalls(runs.get(w, '2 %', st, seed).calls), 0);
  return sum('stopguard') / sum('naive');
}

export async function runSimulations(
  quick: boolean,
  progress: (line: string) => void,
): Promise<SimulationRuns> {
  const accounts = quick ? 20 : 100;
  const cycles = quick ? 1_000 : 2_000;
  const seed = 1;
  const seeds = quick ? [1, 2] : [1, 2, 3];
  const twoPercent = SCENARIOS.find((s) => s.name === '2 %');
  if (twoPercent === undefined) throw new Error('the 2 % scenario is missing from bench/simulations.ts');
  const runs = new Map<string, RunFigures>();
  const runKey = (w: string, s: string, st: Strategy, seed: number) => `${w}|${s}|${st}|${seed}`;
  const run = async (workload: WorkloadName, scenarioName: string, strategy: Strategy, seed: number) => {
    const key = runKey(workload, scenarioName, strategy, seed);
    const known = runs.get(key);
    if (known !== undefined) return known;
    const scenario = SCENARIOS.find((s) => s.name === scenarioName);
    if (scenario === undefined) throw new Error(`unknown scenario ${scenarioName}`);
    const started = performance.now();
    const figures = await measureRun({ workload, scenario, strategy, seed, accounts, cycles });
    runs.set(key, figures);
    progress(
      `  ${workload}, ${scenarioName} drops, ${strategy}, seed ${seed}: ${figures.result.falseCancels} false cancels, ${fixed(figures.result.exchangeCallsPerAccountCycle, 3)} calls/acct-cycle (${fixed((performance.now() - started) / 1000, 1)} s)`,
    );
    return figures;
  };

  progress(`simulations (${accounts} accounts × ${cycles} cycles each) …`);
  const workloads = Object.keys(WORKLOADS) as WorkloadName[];
  for (const w of workloads)
    for (const s of SCENARIOS) for (const st of STRATEGIES) await run(w, s.name, st, seed);
  // The exchange-call ratio is the one target decided by a few percent: every seed, naive and stopguard.
  const ratioWorkloads: WorkloadName[] = ['realistic', 'heavy churn'];
  for (const w of ratioWorkloads)
    for (const s of seeds) for (const st of ['naive', 'stopguard'] as const) await run(w, '2 %', st, s);

  // How the ratio moves with churn: the same 2 % drops, positions living shorter or longer.
  const lives = quick ? [60, 360] : [30, 60, 120, 240, 360, 720];
  progress('churn sweep …');
  const sweep: SweepPoint[] = [];
  for (const life of lives) {
    const pair: Partial<Record<'naive' | 'stopguard', RunFigures>> = {};
    for (const strategy of ['naive', 'stopguard'] as const) {
      pair[strategy] = await measureRun({
        workload: 'realistic',
        scenario: twoPercent,
        strategy,
        seed,
        accounts,
        cycles,
        shape: { meanLifetimeCycles: life, meanFlatCycles: life / 2 },
      });
    }
    const { naive, stopguard } = pair;
    if (naive === undefined || stopguard === undefined) throw new Error('sweep run missing');
    progress(`  life ${life} cycles: ${fixed(ratioOf(stopguard, naive), 3)}× naive`);
    sweep.push({ life, naive, stopguard });
  }

  // A run whose closes need more cancels than the global cap grants ends with orphans still queued behind
  // the cap; run it again with a long fault-free tail to tell a backlog from orphans lost track of.
  const drainCycles = 600;
  const drained = new Map<number, RunFigures>();
  for (const { life, stopguard } of sweep) {
    if (!capBound(stopguard)) continue;
    const again = await measureRun({
      workload: 'realistic',
      scenario: twoPercent,
      strategy: 'stopguard',
      seed,
      accounts,
      cycles,
      shape: { meanLifetimeCycles: life, meanFlatCycles: life / 2 },
      healCycles: drainCycles,
    });
    progress(
      `  life ${life} cycles, ${drainCycles} healing cycles: ${again.result.orphansNeverCleaned} never cleaned`,
    );
    drained.set(life, again);
  }

  return {
    accounts,
    cycles,
    seed,
    seeds,
    workloads,
    ratioWorkloads,
    sweep,
    drainCycles,
    drained,
    matrix: [...runs.values()],
    get: (w, scenario, strategy, s = seed) => {
      const figures = runs.get(runKey(w, scenario, strategy, s));
      if (figures === undefined) throw new Error(`missing run ${w} ${scenario} ${strategy} ${s}`);
      return figures;
    },
  };
}
