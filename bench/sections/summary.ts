import {
  capBound,
  dynamoReadsOf,
  pooledRatio,
  type SimulationRuns,
  storeReadsOf,
} from '#bench/simulation-runs.js';
import { fixed, int } from '#bench/stats.js';
import {
  ceilingVerdict,
  initVerdict,
  MAX_READS,
  MAX_STEADY_CALLS,
  ratioVerdict,
  sizeVerdict,
} from '#bench/targets.js';
import { type BundleMeasurements, deployedInit } from './bundles.js';

/**
 * The `header` section: what the document is and which command writes which section, then every
 * target of issue 5 against the figure this run measured for it, with its verdict.
 */
export function summarySection(input: {
  readonly command: string;
  readonly stamp: string;
  /** The whole bench, measurements and charts, in seconds. */
  readonly seconds: number;
  readonly bundles: BundleMeasurements;
  readonly runs: SimulationRuns;
}): string {
  const { command, stamp, seconds, bundles: m, runs } = input;
  const steady = runs.get('steady', '0 %', 'stopguard');
  const stopguardRuns = [
    ...runs.matrix,
    ...runs.sweep.map((p) => p.stopguard),
    ...runs.drained.values(),
  ].filter((r) => r.strategy === 'stopguard');
  const falseCancels = stopguardRuns.reduce((n, r) => n + r.result.falseCancels, 0);
  // Judged on runs within the cap, and on the cap-bound ones once their backlog could drain.
  const judgedForLiveness = stopguardRuns.filter(
    (r) => !capBound(r) || r.checks > runs.accounts * (runs.cycles + 60),
  );
  const neverCleaned = judgedForLiveness.reduce((n, r) => n + r.result.orphansNeverCleaned, 0);
  const livenessNote =
    runs.drained.size === 0
      ? ''
      : `; the cap-bound sweep run${runs.drained.size > 1 ? 's are' : ' is'} judged after ${runs.drainCycles} fault-free cycles instead of 60 (see the churn sweep)`;

  return [
    '# Benchmarks',
    '',
    'Every figure below is measured, not asserted: tests never time anything (these machines are shared',
    'and noisy), and ratios are compared within one run. Each section names the command that wrote it;',
    '`npm run bench` writes the summary, core, bundles and strategies sections and the two charts,',
    '`npm run simulate -- --write docs/BENCHMARKS.md` the simulate section, `npm run soak` the soak section,',
    '`npm run bench:scheduler` the scheduler section, `npm run cost` the cost section and',
    '`npm run bench:profile` the profile section.',
    '',
    `### Targets (issue 5), as \`${command}\` measured them`,
    '',
    `${stamp} Whole bench: ${fixed(seconds, 0)} s.`,
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    ...m.bundles.map(
      (b) =>
        `| ${b.name} bundle ≤ 1 MB | ${int(b.bytes)} B (gzip ${int(b.gzipBytes)} B) | ${sizeVerdict(b)} |`,
    ),
    ...m.bundles.map((b) => {
      const init = deployedInit(m, b);
      return `| ${b.name} module init ≤ 150 ms (as deployed: \`NODE_OPTIONS=--enable-source-maps\`) | p50 ${fixed(init.p50, 0)} ms, p90 ${fixed(init.p90, 0)} ms | ${initVerdict(init)} |`;
    }),
    ...runs.ratioWorkloads.map(
      (w) =>
        `| exchange calls ≤ 1.03× naive at 2 % drops, ${w} workload | ${fixed(pooledRatio(runs, w), 3)}× (seeds ${runs.seeds.join(', ')} pooled) | ${ratioVerdict(pooledRatio(runs, w))} |`,
    ),
    `| steady state ≤ 1.0 exchange call per account-cycle | ${fixed(steady.result.exchangeCallsPerAccountCycle, 3)} (no closes, 0 % drops) | ${ceilingVerdict(steady.result.exchangeCallsPerAccountCycle, MAX_STEADY_CALLS)} |`,
    `| ≤ 1 DynamoDB read per account-cycle, steady state | ${fixed(dynamoReadsOf(steady), 3)} | ${ceilingVerdict(dynamoReadsOf(steady), MAX_READS)} |`,
    ...runs.ratioWorkloads.map((w) => {
      const r = runs.get(w, '2 %', 'stopguard');
      return `| ≤ 1 DynamoDB read per account-cycle, ${w}, 2 % drops | ${fixed(storeReadsOf(r), 3)} store ops as the harness counts them; ${fixed(dynamoReadsOf(r), 3)} with the account GetItems of its checks, confirmations and registrations | store ops ${ceilingVerdict(storeReadsOf(r), MAX_READS)}; all reads ${ceilingVerdict(dynamoReadsOf(r), MAX_READS)} |`;
    }),
    `| stopguard: 0 false cancels, 0 orphans never cleaned | ${falseCancels} false cancels over all ${stopguardRuns.length} stopguard runs of this bench; ${neverCleaned} orphans never cleaned over ${judgedForLiveness.length} of them${livenessNote} | ${falseCancels === 0 && neverCleaned === 0 ? 'met' : '**missed**'} |`,
    '',
    'Throughput against the HTTP simulator (≥ 1,000 account-checks/s) is measured by `npm run soak`, below.',
  ].join('\n');
}
