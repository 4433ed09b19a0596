import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { SqsWorkQueue } from '#adapters/sqs/sqs-queue.js';
import type { CheckMessage } from '#contracts/messages.js';
import type { LocalAccount, LocalPipeline } from '#local/pipeline/pipeline.js';
import { formatProgress, quantile } from '#local/pipeline/report.js';
import { type EmbeddedRunReport, runEmbedded } from '#local/pipeline/run.js';
import { Metric } from '#ports/telemetry.js';
import { writeSection } from './report.js';

/**
 * `npm run soak`: the full stack (real handlers and SDK clients, DynamoDB Local, the SQS stand-in, the
 * HTTP Bybit simulator) for 200 accounts × 50 cycles = 10,000 account-cycles at the 2 % incident drop
 * rate, then a burst of checks enqueued at once to measure how many account-checks per second this
 * machine gets through. Writes the `soak` section of docs/BENCHMARKS.md.
 */
const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '200' },
    cycles: { type: 'string', default: '50' },
    'drop-rate': { type: 'string', default: '0.02' },
    seed: { type: 'string', default: '1' },
    burst: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '8' },
    'no-write': { type: 'boolean', default: false },
    /** Bybit's harshest tier: 10 requests per second per account on every endpoint (10006 beyond). */
    harsh: { type: 'boolean', default: false },
  },
});
const accounts = Number(values.accounts);
const cycles = Number(values.cycles);
const burstSize = Number(values.burst);
const concurrency = Number(values.concurrency);
const capGlobal = Math.max(50, accounts * 5);

interface Burst {
  checks: number;
  seconds: number;
  perSecond: number;
  /** SDK requests during the burst per check (receives and deletes of the queue included). */
  dynamoPerCheck: number;
  sqsPerCheck: number;
}
let burst: Burst | undefined;

async function measureBurst(pipeline: LocalPipeline, list: readonly LocalAccount[]): Promise<void> {
  const queue = new SqsWorkQueue({ client: pipeline.sqs, queueUrl: pipeline.queues.queueUrl });
  const before = pipeline.telemetry.countOf(Metric.ChecksRun);
  const checks = Array.from({ length: burstSize }, (_, i) => {
    const account = list[i % list.length] as LocalAccount;
    const message: CheckMessage = { type: 'check', accountId: account.id, slot: 1e9 + i };
    return { message, delayMs: 0 };
  });
  const requestsBefore = totalRequests(pipeline);
  const started = performance.now();
  await queue.sendChecks(checks);
  while (pipeline.telemetry.countOf(Metric.ChecksRun) - before < burstSize) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  const requestsAfter = totalRequests(pipeline);
  burst = {
    checks: burstSize,
    seconds,
    perSecond: burstSize / seconds,
    dynamoPerCheck: (requestsAfter.dynamo - requestsBefore.dynamo) / burstSize,
    sqsPerCheck: (requestsAfter.sqs - requestsBefore.sqs) / burstSize,
  };
  console.log(
    `burst: ${burstSize} checks in ${seconds.toFixed(1)} s = ${burst.perSecond.toFixed(0)} checks/s; per check ${burst.dynamoPerCheck.toFixed(2)} DynamoDB and ${burst.sqsPerCheck.toFixed(2)} SQS requests`,
  );
}

function totalRequests(pipeline: LocalPipeline): { dynamo: number; sqs: number } {
  const sum = (counts: ReadonlyMap<string, number> | Record<string, number>) =>
    [...(counts instanceof Map ? counts.values() : Object.values(counts))].reduce((a, b) => a + b, 0);
  return { dynamo: sum(pipeline.dynamoRequests), sqs: sum(pipeline.sqsRequests) };
}

console.log(`soak: ${accounts} accounts × ${cycles} cycles, then a burst of ${burstSize} checks`);
const report = await runEmbedded({
  accounts,
  cycles,
  dropRate: Number(values['drop-rate']),
  seed: Number(values.seed),
  workerConcurrency: concurrency,
  // The global cap is sized to the fleet, as an operator would: the default 50 per minute suits tens of
  // accounts; 200 accounts trading one market close dozens of positions together when a price swings.
  settings: { capGlobal: capGlobal },
  ...(values.harsh ? { rateLimitPerSecond: 10 } : {}),
  onProgress: (p) => {
    if (Math.round(p.elapsedMs / 1000) % 10 === 0) console.log(formatProgress(p));
  },
  afterSettle: measureBurst,
});
const markdown = soakMarkdown(report, burst);
console.log(markdown);
if (!values['no-write']) {
  const section = values.harsh ? 'soak-harsh' : 'soak';
  writeSection('docs/BENCHMARKS.md', section, markdown);
  console.log(`wrote the ${section} section of docs/BENCHMARKS.md`);
}
process.exit(report.falseCancels === 0 && report.orphansNeverCleaned === 0 ? 0 : 1);

function soakMarkdown(r: EmbeddedRunReport, b: Burst | undefined): string {
  const count = (m: string) => r.counts[m] ?? 0;
  const checks = count(Metric.ChecksRun);
  const reads = (r.dynamoRequests.Query ?? 0) + (r.dynamoRequests.GetItem ?? 0);
  const writes = Object.entries(r.dynamoRequests)
    .filter(([name]) => /Put|Update|Delete|Write/.test(name))
    .reduce((sum, [, n]) => sum + n, 0);
  const ms = (sorted: readonly number[], q: number) => quantile(sorted, q)?.toFixed(0) ?? 'n/a';
  const s = (sorted: readonly number[], q: number) => quantile(sorted, q)?.toFixed(1) ?? 'n/a';
  const burstBytes = b?.checks ?? burstSize;
  const rows: [string, string, string][] = [
    ['account-cycles (checks run during the soak)', String(checks), '≥ 10,000'],
    ['false cancels', String(r.falseCancels), '0'],
    [
      'orphans left by closes / cleaned / ended otherwise / never cleaned',
      `${r.orphans} / ${r.orphansCleaned} / ${r.orphansEndedOtherwise} / ${r.orphansNeverCleaned}`,
      'never cleaned = 0',
    ],
    [
      'cleanup delay p50 / p99 (s)',
      `${s(r.cleanupDelaysSeconds, 0.5)} / ${s(r.cleanupDelaysSeconds, 0.99)}`,
      '',
    ],
    [
      'suspects raised / cleared (incomplete responses)',
      `${count(Metric.SuspectsRaised)} / ${count(Metric.IncompleteResponsesObserved)}`,
      '',
    ],
    [
      'exchange requests per account-cycle',
      (r.exchangeRequests / Math.max(1, checks)).toFixed(3),
      "≤ 1.0 in the steady state; here every close adds its confirmation (re-check, list, history, orders, cancels; history and orders follow the last-page cursor the simulator sends as Bybit does, two requests each), and the protection audit lists orders at every check, as these bots rest their stops as orders, not as the position's own stopLoss",
    ],
    [
      'DynamoDB reads per account-cycle',
      (reads / Math.max(1, checks)).toFixed(3),
      `≤ 1 in the steady state: ${r.dynamoRequests.Query ?? 0} Queries for ${checks} checks; the ${r.dynamoRequests.GetItem ?? 0} GetItems are checks, confirmations and the bot's registrations reading their account record`,
    ],
    ['DynamoDB writes per account-cycle', (writes / Math.max(1, checks)).toFixed(3), ''],
    ['check latency p50 / p99 (ms)', `${ms(r.checkLatencyMs, 0.5)} / ${ms(r.checkLatencyMs, 0.99)}`, ''],
    [
      'confirm latency p50 / p99 (ms)',
      `${ms(r.confirmLatencyMs, 0.5)} / ${ms(r.confirmLatencyMs, 0.99)}`,
      '',
    ],
    [
      `burst throughput (${burstBytes} checks enqueued at once, ${concurrency} pollers)`,
      b === undefined ? 'n/a' : `${b.perSecond.toFixed(0)} account-checks/s`,
      b === undefined || b.perSecond >= 1_000
        ? '≥ 1,000'
        : `≥ 1,000: **missed by ${(100 - b.perSecond / 10).toFixed(0)} %**`,
    ],
    [
      'SDK requests per check during the burst (queue sends, receives and deletes included)',
      b === undefined ? 'n/a' : `${b.dynamoPerCheck.toFixed(2)} DynamoDB, ${b.sqsPerCheck.toFixed(2)} SQS`,
      'the I/O is lean; the limit is one event loop carrying the workers, the simulator and the SQS stand-in',
    ],
    ['dead-letter queue at the end', String(r.deadLettered), '0'],
  ];
  const lines = [
    values.harsh ? "## Full-stack soak at Bybit's harshest rate limit" : '## Full-stack soak',
    '',
    `Command: \`npm run soak${values.harsh ? ' -- --harsh' : ''}\` (${values.harsh ? 'every endpoint limited to 10 requests per second per account, 10006 with the X-Bapi-Limit headers beyond it; ' : ''}${accounts} accounts × ${cycles} cycles of 2 s, ${(r.options.dropRate * 100).toFixed(0)} % dropped positions, seed ${r.options.seed}, global cap ${capGlobal} per minute).`,
    `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    "The market is deliberately busy (prices swing across the SL/TP levels of many accounts at once: about one close per account every 14 cycles), so the per-cycle costs include many confirmations; the steady state (no closes) costs 1 exchange call and 2 DynamoDB reads per check, the account record and its state (see the strategies section), plus one order listing per check for an account whose stops rest as orders rather than as the position's own stopLoss, as these bots' do.",
    "Everything runs in one Node process except DynamoDB Local (a JVM): the simulator, the SQS stand-in and the workers share one event loop, so the throughput is a floor for Lambda, where each worker has its own. The burst is CPU-bound on this 2-core machine, not I/O-bound: DynamoDB Local alone answers about 2,100 queries/s, and running the burst's workers in worker threads (1 or 2, each with its own SDK clients, as Lambda isolates its workers) gave 739 and 726 checks/s against 734 on the main loop (2026-11-25, before the protection audit added an order listing to these checks), with the Node process then at 1.5 cores and the JVM at 0.3: the two cores are spent, so the figure measures the machine carrying every stand-in as much as stopguard, and drops with anything else it runs.",
    '',
    '| figure | measured | target |',
    '|---|---|---|',
    ...rows.map(([a, b2, c]) => `| ${a} | ${b2} | ${c} |`),
    '',
    `DynamoDB requests by operation: ${Object.entries(r.dynamoRequests)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    `SQS requests by operation: ${Object.entries(r.sqsRequests)
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  ];
  return lines.join('\n');
}
