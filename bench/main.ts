import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSettings } from '#contracts/settings.js';
import type { Strategy } from '#local/simulation/harness.js';
import {
  type BundleFigures,
  bundleFunction,
  bundlingDrift,
  FUNCTIONS,
  INIT_VARIANTS,
  timeImport,
} from './bundles.js';
import { barChart, histogramChart } from './charts.js';
import { benchCore, type CoreBenchResult } from './core.js';
import { writeSection } from './report.js';
import {
  bucketize,
  measureRun,
  type RunFigures,
  SCENARIOS,
  STRATEGIES,
  totalCalls,
  WORKLOADS,
  type WorkloadName,
} from './simulations.js';
import { ascending, fixed, int, machine, median, percent, percentile } from './stats.js';

/**
 * `npm run bench`: every figure measured on this machine in this run, written with the command, the
 * machine and the date into its own sections of docs/BENCHMARKS.md (`npm run soak` and `npm run
 * simulate` own theirs). `--quick` is a fast pass with smaller samples; `--out FILE` writes elsewhere
 * (the charts go next to it).
 */
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/BENCHMARKS.md' },
  },
});
const quick = values.quick;
const DOC = values.out;
const DOC_DIR = dirname(DOC);
mkdirSync(DOC_DIR, { recursive: true });
const benchStarted = performance.now();
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const MACHINE = machine();
const DATE = `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const stamp = `Command: \`${command}\`. Machine: ${MACHINE}. Date: ${DATE}.`;
const progress = (line: string) => process.stderr.write(`${line}\n`);

// Targets, from issue 5.
const MAX_BUNDLE_BYTES = 1_000_000; // 1 MB; 1 MiB is reported beside it
const MIB = 1_048_576;
const MAX_INIT_MS = 150;
const MAX_CALLS_VS_NAIVE = 1.03;
const MAX_STEADY_CALLS = 1.0;
const MAX_READS = 1.0;

const met = (detail: string) => `met (${detail})`;
const missed = (detail: string) => `**missed** (${detail})`;
/** "over by 0.086 (8.3 %)" for a figure above its ceiling. */
const overBy = (value: number, ceiling: number, digits = 3) =>
  `over by ${fixed(value - ceiling, digits)} (${percent((value - ceiling) / ceiling)})`;

// ---------------------------------------------------------------- 1. the decision core
progress('decision core …');
const CORE_REPEATS = quick ? 1 : 3;
benchCore(10, 20_000); // warm-up: let the JIT settle before anything is timed
const coreRuns: CoreBenchResult[] = Array.from({ length: CORE_REPEATS }, () =>
  benchCore(10, quick ? 50_000 : 200_000),
);
const checkRates = coreRuns.map((r) => r.checkDecisionsPerSecond);
const confirmRates = coreRuns.map((r) => r.confirmDecisionsPerSecond);

// ---------------------------------------------------------------- 2 and 3. bundles and module init
progress('bundles and module init …');
const bundleDir = mkdtempSync(join(tmpdir(), 'stopguard-bench-'));
const bundles: BundleFigures[] = [];
for (const fn of FUNCTIONS) bundles.push(await bundleFunction(fn, bundleDir));
const drift = bundlingDrift();
const INIT_RUNS = quick ? 5 : 15;
const initSamples = new Map<string, number[]>();
const initKey = (fn: string, variant: string) => `${fn}|${variant}`;
// Interleaved, so a slow spell of the machine hits every function and variant alike.
for (let run = 0; run < INIT_RUNS; run++) {
  for (const b of bundles) {
    for (const variant of INIT_VARIANTS) {
      const samples = initSamples.get(initKey(b.name, variant.name)) ?? [];
      samples.push(timeImport(b.file, variant.nodeOptions));
      initSamples.set(initKey(b.name, variant.name), samples);
    }
  }
}
rmSync(bundleDir, { recursive: true, force: true });
const initOf = (fn: string, variant: string) => {
  const sorted = ascending(initSamples.get(initKey(fn, variant)) ?? []);
  return { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), runs: sorted.length };
};

// ---------------------------------------------------------------- 4. the simulations
const ACCOUNTS = quick ? 20 : 100;
const CYCLES = quick ? 1_000 : 2_000;
/** Every table row runs seed 1; the call-ratio target is also checked on the further seeds. */
const SEED = 1;
const SEEDS = quick ? [1, 2] : [1, 2, 3];
const TWO_PERCENT = SCENARIOS.find((s) => s.name === '2 %');
if (TWO_PERCENT === undefined) throw new Error('the 2 % scenario is missing from bench/simulations.ts');
const ratioOf = (stopguard: RunFigures, naive: RunFigures) =>
  stopguard.result.exchangeCallsPerAccountCycle / naive.result.exchangeCallsPerAccountCycle;
const runs = new Map<string, RunFigures>();
const runKey = (w: string, s: string, st: Strategy, seed: number) => `${w}|${s}|${st}|${seed}`;
const run = async (workload: WorkloadName, scenarioName: string, strategy: Strategy, seed: number) => {
  const key = runKey(workload, scenarioName, strategy, seed);
  const known = runs.get(key);
  if (known !== undefined) return known;
  const scenario = SCENARIOS.find((s) => s.name === scenarioName);
  if (scenario === undefined) throw new Error(`unknown scenario ${scenarioName}`);
  const started = performance.now();
  const figures = await measureRun({
    workload,
    scenario,
    strategy,
    seed,
    accounts: ACCOUNTS,
    cycles: CYCLES,
  });
  runs.set(key, figures);
  progress(
    `  ${workload}, ${scenarioName} drops, ${strategy}, seed ${seed}: ${figures.result.falseCancels} false cancels, ${fixed(figures.result.exchangeCallsPerAccountCycle, 3)} calls/acct-cycle (${fixed((performance.now() - started) / 1000, 1)} s)`,
  );
  return figures;
};

progress(`simulations (${ACCOUNTS} accounts × ${CYCLES} cycles each) …`);
const workloadNames = Object.keys(WORKLOADS) as WorkloadName[];
for (const w of workloadNames)
  for (const s of SCENARIOS) for (const st of STRATEGIES) await run(w, s.name, st, SEED);
// The exchange-call ratio is the one target decided by a few percent: every seed, naive and stopguard.
const ratioWorkloads: WorkloadName[] = ['realistic', 'heavy churn'];
for (const w of ratioWorkloads)
  for (const seed of SEEDS) for (const st of ['naive', 'stopguard'] as const) await run(w, '2 %', st, seed);

// How the ratio moves with churn: the same 2 % drops, positions living shorter or longer.
const SWEEP = quick ? [60, 360] : [30, 60, 120, 240, 360, 720];
progress('churn sweep …');
const sweep: { life: number; naive: RunFigures; stopguard: RunFigures }[] = [];
for (const life of SWEEP) {
  const pair: Partial<Record<'naive' | 'stopguard', RunFigures>> = {};
  for (const strategy of ['naive', 'stopguard'] as const) {
    pair[strategy] = await measureRun({
      workload: 'realistic',
      scenario: TWO_PERCENT,
      strategy,
      seed: SEED,
      accounts: ACCOUNTS,
      cycles: CYCLES,
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
const capBound = (r: RunFigures) => r.result.capRefusals > r.result.suspectsRaised * 0.05;
const DRAIN_CYCLES = 600;
const drained = new Map<number, RunFigures>();
for (const { life, stopguard } of sweep) {
  if (!capBound(stopguard)) continue;
  const again = await measureRun({
    workload: 'realistic',
    scenario: TWO_PERCENT,
    strategy: 'stopguard',
    seed: SEED,
    accounts: ACCOUNTS,
    cycles: CYCLES,
    shape: { meanLifetimeCycles: life, meanFlatCycles: life / 2 },
    healCycles: DRAIN_CYCLES,
  });
  progress(
    `  life ${life} cycles, ${DRAIN_CYCLES} healing cycles: ${again.result.orphansNeverCleaned} never cleaned`,
  );
  drained.set(life, again);
}

const get = (w: WorkloadName, scenario: string, strategy: Strategy, seed = SEED) => {
  const figures = runs.get(runKey(w, scenario, strategy, seed));
  if (figures === undefined) throw new Error(`missing run ${w} ${scenario} ${strategy} ${seed}`);
  return figures;
};
const perCycle = (n: number, r: RunFigures) => n / r.checks;
const storeReadsOf = (r: RunFigures) => perCycle(r.storeReads, r);
const dynamoReadsOf = (r: RunFigures) => perCycle(r.storeReads + r.accountReads, r);

// ---------------------------------------------------------------- 5. charts
const CHART_WORKLOAD: WorkloadName = 'realistic';
writeFileSync(
  join(DOC_DIR, 'false-cancels.svg'),
  barChart({
    title: `False cancels by strategy and drop rate (${CHART_WORKLOAD} workload, ${int(ACCOUNTS * CYCLES)} account-cycles each)`,
    groups: SCENARIOS.map((s) => s.name),
    series: STRATEGIES.map((st) => ({
      name: st,
      values: SCENARIOS.map((s) => get(CHART_WORKLOAD, s.name, st).result.falseCancels),
    })),
  }),
);
const HISTOGRAM_RUN = get('heavy churn', '2 %', 'stopguard');
const BUCKET_S = 5;
const delays = ascending(HISTOGRAM_RUN.cleanupDelaysSeconds);
// Up to the slowest cleanup, between 2 and 3 minutes wide; anything later lands in a last "≥" bucket.
const BUCKETS = Math.min(36, Math.max(24, Math.floor((delays[delays.length - 1] ?? 0) / BUCKET_S) + 2));
const marker = (label: string, q: number) => {
  const value = percentile(delays, q);
  return { label: `${label} ${fixed(value, 0)} s`, bucket: Math.min(BUCKETS, Math.floor(value / BUCKET_S)) };
};
writeFileSync(
  join(DOC_DIR, 'cleanup-delay.svg'),
  histogramChart({
    title: `stopguard: close to cancel, heavy churn, 2 % drops (${int(delays.length)} orphans cleaned)`,
    xLabel: `seconds from the close to the cancel (buckets of ${BUCKET_S} s, labelled by their start; checks every 10 s)`,
    labels: Array.from({ length: BUCKETS + 1 }, (_, i) =>
      i === BUCKETS ? `≥${i * BUCKET_S}` : String(i * BUCKET_S),
    ),
    counts: bucketize(delays, BUCKET_S, BUCKETS),
    markers: [marker('p50', 0.5), marker('p99', 0.99)],
  }),
);

// ---------------------------------------------------------------- the document
const seconds = (performance.now() - benchStarted) / 1000;

// Verdicts, each computed once and used by the summary and by its own section.
const sizeVerdict = (b: BundleFigures) =>
  b.bytes <= MAX_BUNDLE_BYTES
    ? met(`${int(b.bytes)} B, ${int(MAX_BUNDLE_BYTES - b.bytes)} B to spare`)
    : missed(
        `${int(b.bytes)} B, over 1 MB = 1,000,000 B by ${int(b.bytes - MAX_BUNDLE_BYTES)} B (${percent((b.bytes - MAX_BUNDLE_BYTES) / MAX_BUNDLE_BYTES)})${b.bytes <= MIB ? `; within 1 MiB = 1,048,576 B by ${int(MIB - b.bytes)} B` : ''}`,
      );
const deployedInit = (b: BundleFigures) => initOf(b.name, 'as deployed');
const initVerdict = (b: BundleFigures) => {
  const { p50, p90 } = deployedInit(b);
  if (p90 <= MAX_INIT_MS) return met(`p50 ${fixed(p50, 0)} ms, p90 ${fixed(p90, 0)} ms`);
  if (p50 <= MAX_INIT_MS)
    return `met at p50 (${fixed(p50, 0)} ms); **missed** at p90 (${fixed(p90, 0)} ms, over by ${fixed(p90 - MAX_INIT_MS, 0)} ms)`;
  return missed(`p50 ${fixed(p50, 0)} ms, over by ${fixed(p50 - MAX_INIT_MS, 0)} ms`);
};
const ratioVerdict = (ratio: number) =>
  ratio <= MAX_CALLS_VS_NAIVE
    ? met(`${fixed(ratio, 3)}×`)
    : missed(`${fixed(ratio, 3)}×, ${overBy(ratio, MAX_CALLS_VS_NAIVE)}`);
const pooledRatio = (w: WorkloadName) => {
  const sum = (st: Strategy) => SEEDS.reduce((n, seed) => n + totalCalls(get(w, '2 %', st, seed).calls), 0);
  return sum('stopguard') / sum('naive');
};
const ceilingVerdict = (value: number, ceiling: number) =>
  value <= ceiling ? met(fixed(value, 3)) : missed(`${fixed(value, 3)}, ${overBy(value, ceiling)}`);
const steady = get('steady', '0 %', 'stopguard');
const stopguardRuns = [...runs.values(), ...sweep.map((p) => p.stopguard), ...drained.values()].filter(
  (r) => r.strategy === 'stopguard',
);
const falseCancelsStopguard = stopguardRuns.reduce((n, r) => n + r.result.falseCancels, 0);
// Judged on runs within the cap, and on the cap-bound ones once their backlog could drain.
const judgedForLiveness = stopguardRuns.filter((r) => !capBound(r) || r.checks > ACCOUNTS * (CYCLES + 60));
const neverCleanedStopguard = judgedForLiveness.reduce((n, r) => n + r.result.orphansNeverCleaned, 0);
const livenessNote =
  drained.size === 0
    ? ''
    : `; the cap-bound sweep run${drained.size > 1 ? 's are' : ' is'} judged after ${DRAIN_CYCLES} fault-free cycles instead of 60 (see the churn sweep)`;

const header = [
  '# Benchmarks',
  '',
  'Every figure below is measured, not asserted: tests never time anything (these machines are shared',
  'and noisy), and ratios are compared within one run. Each section names the command that wrote it;',
  '`npm run bench` writes the summary, core, bundles and strategies sections and the two charts,',
  '`npm run simulate -- --write docs/BENCHMARKS.md` the simulate section, `npm run soak` the soak section.',
  '',
  `### Targets (issue 5), as \`${command}\` measured them`,
  '',
  `${stamp} Whole bench: ${fixed(seconds, 0)} s.`,
  '',
  '| target | measured | verdict |',
  '|---|---|---|',
  ...bundles.map(
    (b) => `| ${b.name} bundle ≤ 1 MB | ${int(b.bytes)} B (gzip ${int(b.gzipBytes)} B) | ${sizeVerdict(b)} |`,
  ),
  ...bundles.map(
    (b) =>
      `| ${b.name} module init ≤ 150 ms (as deployed: \`NODE_OPTIONS=--enable-source-maps\`) | p50 ${fixed(deployedInit(b).p50, 0)} ms, p90 ${fixed(deployedInit(b).p90, 0)} ms | ${initVerdict(b)} |`,
  ),
  ...ratioWorkloads.map(
    (w) =>
      `| exchange calls ≤ 1.03× naive at 2 % drops, ${w} workload | ${fixed(pooledRatio(w), 3)}× (seeds ${SEEDS.join(', ')} pooled) | ${ratioVerdict(pooledRatio(w))} |`,
  ),
  `| steady state ≤ 1.0 exchange call per account-cycle | ${fixed(steady.result.exchangeCallsPerAccountCycle, 3)} (no closes, 0 % drops) | ${ceilingVerdict(steady.result.exchangeCallsPerAccountCycle, MAX_STEADY_CALLS)} |`,
  `| ≤ 1 DynamoDB read per account-cycle, steady state | ${fixed(dynamoReadsOf(steady), 3)} | ${ceilingVerdict(dynamoReadsOf(steady), MAX_READS)} |`,
  ...ratioWorkloads.map((w) => {
    const r = get(w, '2 %', 'stopguard');
    return `| ≤ 1 DynamoDB read per account-cycle, ${w}, 2 % drops | ${fixed(storeReadsOf(r), 3)} store ops as the harness counts them; ${fixed(dynamoReadsOf(r), 3)} with the confirmations' account GetItems | store ops ${ceilingVerdict(storeReadsOf(r), MAX_READS)}; all reads ${ceilingVerdict(dynamoReadsOf(r), MAX_READS)} |`;
  }),
  `| stopguard: 0 false cancels, 0 orphans never cleaned | ${falseCancelsStopguard} false cancels over all ${stopguardRuns.length} stopguard runs of this bench; ${neverCleanedStopguard} orphans never cleaned over ${judgedForLiveness.length} of them${livenessNote} | ${falseCancelsStopguard === 0 && neverCleanedStopguard === 0 ? 'met' : '**missed**'} |`,
  '',
  'Throughput against the HTTP simulator (≥ 1,000 account-checks/s) is measured by `npm run soak`, below.',
].join('\n');

const coreSection = [
  '## Decision core',
  '',
  stamp,
  `The pure core alone (no I/O), ${CORE_REPEATS === 1 ? 'one timed pass' : `median of ${CORE_REPEATS} timed passes (min–max beside it)`} after a warm-up; \`bench/core.ts\`.`,
  '',
  '| path | decisions/s | min–max |',
  '|---|---|---|',
  `| check: first look (\`assessSnapshot\`, ${coreRuns[0]?.positionsPerAccount ?? 10} tracked positions, one missing; a decision per position) | ${int(median(checkRates))} | ${int(Math.min(...checkRates))}–${int(Math.max(...checkRates))} |`,
  `| confirm: second look (\`decideConfirmation\`, a proven close through to the cancel) | ${int(median(confirmRates))} | ${int(Math.min(...confirmRates))}–${int(Math.max(...confirmRates))} |`,
].join('\n');

const worker = bundles.find((b) => b.name === 'worker') ?? bundles[0];
const bundleSection = [
  '## Function bundles and module init',
  '',
  stamp,
  'Each handler is bundled with the esbuild JS API and the options infra/stopguard-function.ts gives CDK',
  '(`bench/bundles.ts`: ESM, node22, minified, `main-fields=module,main`, the createRequire banner, linked',
  'source map without sources content, every dependency inside, AWS SDK included). Init: a fresh `node`',
  `process times \`await import()\` of the bundle, ${INIT_RUNS} processes per function and variant, interleaved.`,
  'No environment is needed at import: the handlers read theirs on the first invocation. "As deployed" adds',
  'the `NODE_OPTIONS=--enable-source-maps` the stack sets, which makes Node read and parse the source map at load.',
  ...(drift.length > 0
    ? ['', `**The bench's copy of the bundling options has drifted from infra:** ${drift.join('; ')}.`]
    : []),
  '',
  '| function | bundle | gzip -9 | source map | ≤ 1 MB | init p50 / p90, plain | init p50 / p90, as deployed | init ≤ 150 ms (as deployed) |',
  '|---|---|---|---|---|---|---|---|',
  ...bundles.map((b) => {
    const plain = initOf(b.name, 'plain');
    const deployed = deployedInit(b);
    return `| ${b.name} | ${int(b.bytes)} B | ${int(b.gzipBytes)} B | ${int(b.mapBytes)} B | ${sizeVerdict(b)} | ${fixed(plain.p50, 0)} / ${fixed(plain.p90, 0)} ms | ${fixed(deployed.p50, 0)} / ${fixed(deployed.p90, 0)} ms | ${initVerdict(b)} |`;
  }),
  '',
  `What fills the ${worker?.name ?? 'worker'} bundle (bytes in the minified output, by npm package, from esbuild's metafile):`,
  '',
  '| package | bytes | share |',
  '|---|---|---|',
  ...(worker?.byPackage ?? [])
    .slice(0, 10)
    .map((p) => `| ${p.name} | ${int(p.bytes)} | ${percent(p.bytes / (worker?.bytes ?? 1))} |`),
  '',
  'Init is measured on this machine with its Node; Lambda (arm64, Node 22) adds the runtime’s own start,',
  'and the first invocation then builds the SDK clients, which no import pays for.',
].join('\n');

const scenarioNote =
  'Drops: the share of position lists that silently omit positions (20 %: up to 3 at once; correlated 5 %: an omission persists 30 s, so the confirming list lies too, and 20 % of targeted re-checks lie).';
const tableFor = (w: WorkloadName) => {
  const shape = WORKLOADS[w];
  const life =
    shape.meanLifetimeCycles >= 1e9
      ? 'positions never close'
      : `positions live ${shape.meanLifetimeCycles} cycles (${fixed((shape.meanLifetimeCycles * 10) / 60, 0)} min) on average, slots stay flat ${shape.meanFlatCycles} cycles`;
  return [
    `### Workload: ${w} (${life})`,
    '',
    '| drops | strategy | false cancels | orphans | cleaned | never cleaned | cleanup p50 / p99 (cycles) | exchange calls / acct-cycle | × naive | DynamoDB reads / acct-cycle: store ops (with account GetItems) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...SCENARIOS.flatMap((s) =>
      STRATEGIES.map((st) => {
        const r = get(w, s.name, st);
        const naive = get(w, s.name, 'naive');
        const res = r.result;
        return `| ${s.name} | ${st} | ${int(res.falseCancels)} | ${int(res.trueOrphans)} | ${int(res.orphansCleaned)} | ${st === 'stopguard' ? int(res.orphansNeverCleaned) : '–'} | ${fixed(res.cleanupDelayCycles.p50, 1)} / ${fixed(res.cleanupDelayCycles.p99, 1)} | ${fixed(res.exchangeCallsPerAccountCycle, 3)} | ${fixed(ratioOf(r, naive), 3)} | ${st === 'stopguard' ? `${fixed(storeReadsOf(r), 3)} (${fixed(dynamoReadsOf(r), 3)})` : '–'} |`;
      }),
    ),
    '',
  ];
};

// Where stopguard's calls go, against naive's, at 2 % drops.
const breakdownRows: [string, (r: RunFigures) => number][] = [
  ['position lists, scheduled checks', (r) => r.checks],
  ['position lists, confirmations (the second complete list)', (r) => r.calls.list - r.checks],
  ['targeted re-checks', (r) => r.calls.recheck],
  ['fill history (proof of the close)', (r) => r.calls.history],
  ['open-orders fetches', (r) => r.calls.orders],
  ['cancels', (r) => r.calls.cancel],
  ['**total**', (r) => totalCalls(r.calls)],
];
const breakdownTable = [
  `| exchange calls per account-cycle, 2 % drops | ${ratioWorkloads.map((w) => `${w}: naive | ${w}: stopguard`).join(' | ')} |`,
  `|---|${ratioWorkloads.map(() => '---|---|').join('')}`,
  ...breakdownRows.map(
    ([label, f]) =>
      `| ${label} | ${ratioWorkloads
        .flatMap((w) =>
          (['naive', 'stopguard'] as const).map((st) =>
            fixed(perCycle(f(get(w, '2 %', st)), get(w, '2 %', st)), 4),
          ),
        )
        .join(' | ')} |`,
  ),
];
const explain = (w: WorkloadName) => {
  const n = get(w, '2 %', 'naive');
  const s = get(w, '2 %', 'stopguard');
  const confirmLists = s.calls.list - s.checks;
  const extra = perCycle(totalCalls(s.calls) - totalCalls(n.calls), s);
  const closeRate = perCycle(s.closes, s);
  const minutesBetweenCloses = 10 / 60 / closeRate;
  const proofPerClose = (confirmLists + s.calls.history) / Math.max(1, s.closes);
  const recheckPerSuspect = s.calls.recheck / Math.max(1, s.result.suspectsRaised);
  const withoutSecondList = (totalCalls(s.calls) - confirmLists) / totalCalls(n.calls);
  return `- **${w}**: stopguard makes ${fixed(extra, 4)} more calls per account-cycle than naive (${fixed(ratioOf(s, n), 3)}×). Positions close with orders left at ${fixed(closeRate, 4)} per account-cycle (one per account every ${fixed(minutesBetweenCloses, 0)} min). Each such close costs stopguard ${fixed(proofPerClose, 2)} proof calls (the second complete list and the fill history) on top of the re-check and the orders fetch; every one of its ${int(s.result.suspectsRaised)} suspects costs ${fixed(recheckPerSuspect, 2)} re-checks (${int(s.result.suspectsCleared)} were glitches, cleared by the re-check alone). Naive makes no such calls but pays an orders fetch and cancels for each of its ${int(n.result.falseCancels)} false cancels. Without the confirmation's own list (were the next scheduled list used as the second look) the ratio would be ${fixed(withoutSecondList, 3)}× (arithmetic on these counts, not a measurement).`;
};

const seedTable = [
  `| seed | ${ratioWorkloads.map((w) => `${w}: naive | ${w}: stopguard | ${w}: ratio`).join(' | ')} |`,
  `|---|${ratioWorkloads.map(() => '---|---|---|').join('')}`,
  ...SEEDS.map(
    (seed) =>
      `| ${seed} | ${ratioWorkloads
        .map((w) => {
          const n = get(w, '2 %', 'naive', seed);
          const s = get(w, '2 %', 'stopguard', seed);
          return `${fixed(n.result.exchangeCallsPerAccountCycle, 4)} | ${fixed(s.result.exchangeCallsPerAccountCycle, 4)} | ${fixed(ratioOf(s, n), 3)}×`;
        })
        .join(' | ')} |`,
  ),
  `| all seeds pooled | ${ratioWorkloads.map((w) => ` |  | ${fixed(pooledRatio(w), 3)}×`).join(' | ')} |`,
];
const sweepTable = [
  '| mean position life (cycles) | closes per account-hour | naive calls / acct-cycle | stopguard calls / acct-cycle | ratio | ≤ 1.03× | stopguard cap refusals | stopguard cleanup p50 / p99 (cycles) |',
  '|---|---|---|---|---|---|---|---|',
  ...sweep.map(({ life, naive, stopguard }) => {
    const perHour = (stopguard.closes / ACCOUNTS / (CYCLES * 10)) * 3600;
    const ratio = ratioOf(stopguard, naive);
    const delay = stopguard.result.cleanupDelayCycles;
    return `| ${life} (${fixed((life * 10) / 60, 0)} min) | ${fixed(perHour, 2)} | ${fixed(naive.result.exchangeCallsPerAccountCycle, 4)} | ${fixed(stopguard.result.exchangeCallsPerAccountCycle, 4)} | ${fixed(ratio, 3)}× | ${ratio <= MAX_CALLS_VS_NAIVE ? 'yes' : `no, ${overBy(ratio, MAX_CALLS_VS_NAIVE)}`} | ${int(stopguard.result.capRefusals)} | ${fixed(delay.p50, 1)} / ${fixed(delay.p99, 1)} |`;
  }),
];
// Where the fleet's closes need more cancels than the global cap grants, refused confirmations come back
// every cap window and re-verify before asking again: that regime measures the cap's backlog.
const capBoundSweep = sweep.filter((p) => capBound(p.stopguard));
const capNote =
  capBoundSweep.length === 0
    ? []
    : [
        '',
        `At a mean life of ${capBoundSweep.map((p) => p.life).join(', ')} cycles the ${ACCOUNTS} accounts' closes need more cancels than the global cap grants (\`capGlobal\` ${defaultSettings.capGlobal} per ${defaultSettings.capWindowMs / 60_000} min window, the default): ${capBoundSweep.map((p) => `${int(p.stopguard.result.capRefusals)} refusals`).join(', ')}. A refused confirmation comes back at the next window and re-verifies everything (re-check, list, history, orders) before asking the cap again, so its ratio and its cleanup delay measure the cap's backlog rather than the cost of proof. Bounded damage working as designed; each refusal costs four exchange calls, which sizing \`capGlobal\` to the fleet (as the soak does) avoids. With 60 healing cycles ${capBoundSweep.map((p) => int(p.stopguard.result.orphansNeverCleaned)).join(', ')} orphans are still queued behind the cap when the run ends (counted as "never cleaned" by the harness); run again with ${DRAIN_CYCLES} healing cycles: ${capBoundSweep.map((p) => `${int(drained.get(p.life)?.result.orphansNeverCleaned ?? Number.NaN)} never cleaned, cleanup p99 ${fixed(drained.get(p.life)?.result.cleanupDelayCycles.p99 ?? Number.NaN, 0)} cycles`).join('; ')}.`,
      ];
const realistic2 = get('realistic', '2 %', 'stopguard');
const heavy2 = get('heavy churn', '2 %', 'stopguard');

const strategiesSection = [
  '## Naive vs two-fetch vs stopguard, same seeded worlds',
  '',
  `${stamp} The deterministic simulation (\`local/simulation/harness.ts\`: stopguard's real orchestration on in-memory ports and a virtual clock, 10 s cadence; naive: missing once → cancel; two-fetch: a second list must agree). ${ACCOUNTS} accounts × ${int(CYCLES)} cycles per row plus 60 fault-free healing cycles, seed ${SEED}, 4 position slots per account, a quarter of the accounts in hedge mode.`,
  scenarioNote,
  'Cleanup delays are in cycles of 10 s from the close to the cancel. "Never cleaned" is judged for stopguard only (the baselines cancel on absence). Costs are per check run, healing cycles included; "× naive" compares exchange calls with the naive row of the same drops.',
  "DynamoDB reads: the harness counts the store's operations (one Query per check); the figure in brackets adds the account-record GetItem each confirmation makes (`loadAccount` in `runConfirm`), which the harness's counter leaves out and which DynamoDB does bill (the soak below counts it too). Exchange calls count one request per listing, as the simulated venue answers each in one page. On Bybit, whose last page may carry a cursor, the fill history and the open orders follow it to the empty page (one more request each, for a confirmation that gets that far; naive's orders fetch pays the same), while the positions list stops at a short page; the soak's simulator sends such cursors and counts them.",
  '',
  '![False cancels by strategy and drop rate](false-cancels.svg)',
  '',
  ...workloadNames.flatMap(tableFor),
  '### Exchange calls against the naive reconciler (target ≤ 1.03× at 2 % drops)',
  '',
  `Same seeded worlds per seed, ${ACCOUNTS} accounts × ${int(CYCLES)} cycles each:`,
  '',
  ...seedTable,
  '',
  `- Realistic workload: ${ratioVerdict(pooledRatio('realistic'))}.`,
  `- Heavy churn: ${ratioVerdict(pooledRatio('heavy churn'))}.`,
  '',
  'Where the calls go (seed 1):',
  '',
  ...breakdownTable,
  '',
  ...ratioWorkloads.map(explain),
  '',
  'The cause of the excess under churn is the proof itself, paid per close, not per check: a re-check that',
  'does not show the position open *and* a second complete list (invariant 3), and fills in history that',
  'account for the whole size (invariant 4), before the orders fetch naive makes too. A glitch costs stopguard',
  'one re-check (which clears the suspect) and naive an orders fetch plus the cancels of the stops it wrongly',
  `strips: with no closes at all (steady workload, 2 % drops) the ratio is ${fixed(ratioOf(get('steady', '2 %', 'stopguard'), get('steady', '2 %', 'naive')), 3)}×. Drops do not push it`,
  'over the target; closes do. How it grows with churn (2 % drops, same seed, slots flat half a position life):',
  '',
  ...sweepTable,
  ...capNote,
  '',
  'Nothing in functions/ was changed for these figures. The one lever that keeps every invariant, for whoever',
  'owns the orchestration: take the second complete list from the next scheduled check instead of fetching one',
  'per confirmation (one call less per close, the arithmetic above; the cleanup would then wait for the next',
  'cycle). The re-check and the history query are the proof and cannot go without dropping an invariant.',
  '',
  '### DynamoDB reads per account-cycle (target ≤ 1)',
  '',
  `- Steady state: ${fixed(dynamoReadsOf(steady), 3)}: one Query per check, nothing else. ${ceilingVerdict(dynamoReadsOf(steady), MAX_READS)}.`,
  `- Realistic, 2 % drops: ${fixed(storeReadsOf(realistic2), 3)} store ops (${ceilingVerdict(storeReadsOf(realistic2), MAX_READS)}), ${fixed(dynamoReadsOf(realistic2), 3)} with the ${int(realistic2.accountReads)} account GetItems of its confirmations (${ceilingVerdict(dynamoReadsOf(realistic2), MAX_READS)}).`,
  `- Heavy churn, 2 % drops: ${fixed(storeReadsOf(heavy2), 3)} store ops (${ceilingVerdict(storeReadsOf(heavy2), MAX_READS)}), ${fixed(dynamoReadsOf(heavy2), 3)} with the ${int(heavy2.accountReads)} account GetItems (${ceilingVerdict(dynamoReadsOf(heavy2), MAX_READS)}).`,
  '',
  "The claim of a suspect is a conditional UpdateItem (a write, no read). The excess over 1 is exactly one GetItem per confirmation: `runConfirm` loads the account record, where `runCheck` gets it inside its message from the scheduler. Carrying the record in the confirm message would bring every row to 1.000, and is deliberately not done: a confirmation may run minutes after its check, and an operator who disables an account or turns shadow mode back on must be obeyed by the very next confirmation, not by one acting on a stale copy. One read per confirmation (not per check) is the price of that. The scheduler's own reads (listing enabled accounts once a minute) are not simulated; they are one paged Query per minute for the whole fleet.",
  '',
  '### Cleanup delay, stopguard',
  '',
  `Heavy churn, 2 % drops, seed ${SEED}: p50 ${fixed(percentile(delays, 0.5), 0)} s, p99 ${fixed(percentile(delays, 0.99), 0)} s, max ${fixed(delays[delays.length - 1] ?? 0, 0)} s over ${int(delays.length)} cleaned orphans (the confirmation runs 5 s after the first miss; a late one waits for history or a retry).`,
  '',
  '![Cleanup delay distribution](cleanup-delay.svg)',
].join('\n');

writeSection(DOC, 'header', header);
writeSection(DOC, 'core', coreSection);
writeSection(DOC, 'bundles', bundleSection);
writeSection(DOC, 'strategies', strategiesSection);
if (!readFileSync(DOC, 'utf8').includes('<!-- bench:soak -->'))
  writeSection(
    DOC,
    'soak',
    '## Full-stack soak\n\nNot measured yet: run `npm run soak` to fill this section.',
  );
progress(
  `wrote ${DOC}, ${join(DOC_DIR, 'false-cancels.svg')}, ${join(DOC_DIR, 'cleanup-delay.svg')} in ${fixed(seconds, 0)} s`,
);
