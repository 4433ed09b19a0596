import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { runEmbedded } from '#local/pipeline/run.js';
import { Metric } from '#ports/telemetry.js';
import { costSection, type MeasuredInputs, type WorkloadCounts } from './cost/report.js';
import { writeSection } from './report.js';
import { measureRun, SCENARIOS, WORKLOADS, type WorkloadName } from './simulations.js';
import { machine } from './stats.js';

/**
 * `npm run cost`: what an account costs a month on AWS, from counted operations. Two measurements:
 * - the deterministic simulation counts, per check and per workload, the store's reads and writes, the
 *   account-record reads, the exchange calls and the confirmations (stopguard's own orchestration,
 *   2 % drops, 10 s cadence);
 * - a probe runs the real pipeline (handlers, SDK clients, DynamoDB Local, the SQS stand-in, the HTTP
 *   simulator) and reads what those operations weigh: the request units DynamoDB bills for each kind
 *   (refused conditional writes included), the bytes of each decision line, the batches the worker got.
 * bench/cost/model.ts turns both into dollars with the dated prices in bench/cost/prices.ts and writes
 * the `cost` section of docs/BENCHMARKS.md.
 */
const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '50' },
    cycles: { type: 'string', default: '1000' },
    'probe-cycles': { type: 'string', default: '25' },
    'no-write': { type: 'boolean', default: false },
  },
});
const started = performance.now();
const progress = (line: string) => process.stderr.write(`${line}\n`);

const workloads: WorkloadCounts[] = [];
for (const workload of Object.keys(WORKLOADS) as WorkloadName[]) {
  progress(`simulating ${workload} …`);
  const run = await measureRun({
    workload,
    scenario: SCENARIOS[1] as (typeof SCENARIOS)[number],
    strategy: 'stopguard',
    seed: 1,
    accounts: Number(values.accounts),
    cycles: Number(values.cycles),
  });
  const r = run.result;
  workloads.push({
    name: workload,
    storeReads: r.storeReadsPerAccountCycle,
    storeWrites: r.storeWritesPerAccountCycle,
    accountReads: r.accountReadsPerAccountCycle,
    exchangeCalls: r.exchangeCallsPerAccountCycle,
    suspects: r.suspectsRaised / run.checks,
  });
}

progress('probing the pipeline on DynamoDB Local …');
const dir = mkdtempSync(join(tmpdir(), 'stopguard-cost-'));
const logFile = join(dir, 'decisions.jsonl');
const probe = await runEmbedded({
  accounts: 10,
  cycles: Number(values['probe-cycles']),
  dropRate: 0.02,
  seed: 1,
  logFile,
});
const lines = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter((l) => l !== '');
rmSync(dir, { recursive: true, force: true });
const checks = probe.counts[Metric.ChecksRun] ?? 0;

const inputs: MeasuredInputs = {
  workloads,
  probe: {
    checks,
    suspects: probe.counts[Metric.SuspectsRaised] ?? 0,
    units: probe.dynamoCapacity.units,
    unitRequests: probe.dynamoCapacity.requests,
    failedConditions: probe.dynamoCapacity.failedConditions,
    requests: probe.dynamoRequests,
    logLines: lines.length,
    logBytes: lines.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0),
    workerBatches: probe.workerBatches,
  },
  logContextBytes: powertoolsContextBytes(),
  metricsLineBytes: emfLineBytes(),
};

const markdown = costSection(inputs, {
  command: `npm run cost${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: machine(),
  date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  seconds: (performance.now() - started) / 1000,
});
console.log(markdown);
if (!values['no-write']) {
  writeSection('docs/BENCHMARKS.md', 'cost', markdown);
  console.log('wrote the cost section of docs/BENCHMARKS.md');
}
process.exit(0);

/** The context Powertools' logger puts on each line inside Lambda (a deployed stack's names). */
function powertoolsContextBytes(): number {
  const name = 'StopguardStack-StopguardWorkerFunction2F215516-AbCdEfGhIjKl';
  return Buffer.byteLength(
    JSON.stringify({
      level: 'INFO',
      timestamp: '2026-11-30T23:59:07.123Z',
      service: 'stopguard',
      cold_start: false,
      function_arn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
      function_memory_size: '512',
      function_name: name,
      function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      sampling_rate: 0,
      xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    }),
  );
}

/** One invocation's metrics as Powertools writes them (EMF), for a batch of checks. */
function emfLineBytes(): number {
  const metrics = new Metrics({ namespace: 'stopguard', serviceName: 'stopguard' });
  metrics.addMetric(Metric.ChecksRun, MetricUnit.Count, 10);
  metrics.addMetric(Metric.CompleteSnapshots, MetricUnit.Count, 10);
  metrics.addMetric(Metric.CheckDurationMs, MetricUnit.Count, 180);
  metrics.addMetric(Metric.SnapshotAgeSeconds, MetricUnit.Count, 10);
  return Buffer.byteLength(JSON.stringify(metrics.serializeMetrics()));
}
