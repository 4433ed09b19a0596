import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { SqsWorkQueue } from '#adapters/sqs/sqs-queue.js';
import type { CheckMessage } from '#contracts/messages.js';
import type { LocalAccount, LocalPipeline } from '#local/pipeline/pipeline.js';
import { runEmbedded } from '#local/pipeline/run.js';
import { Metric } from '#ports/telemetry.js';
import { writeSection } from './report.js';
import { fixed, int, machine } from './stats.js';

/**
 * `npm run bench:profile`: a burst of checks through the whole local stack (real handlers and SDK
 * clients, DynamoDB Local, the SQS stand-in, the HTTP Bybit simulator), profiled with V8's CPU
 * profiler (the one `--cpu-prof` writes). Each sample's own time goes to the package or folder of
 * its function, so the worker's CPU per check is told apart from the stand-ins' sharing the process.
 * Writes the `profile` section of docs/BENCHMARKS.md.
 */
const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '50' },
    burst: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '8' },
    'no-write': { type: 'boolean', default: false },
  },
});
const burstSize = Number(values.burst);

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Where a function's time is counted: whose code it is. */
const CATEGORIES: readonly (readonly [string, RegExp, 'worker' | 'stand-in' | 'shared'])[] = [
  ['stopguard: core', /\/functions\/core\//, 'worker'],
  ['stopguard: orchestration', /\/functions\/orchestration\//, 'worker'],
  ['stopguard: contracts (zod schemas in use)', /\/functions\/contracts\//, 'worker'],
  ['stopguard: Bybit adapter', /\/functions\/adapters\/bybit\//, 'worker'],
  ['stopguard: other adapters and handlers', /\/functions\//, 'worker'],
  ['zod', /node_modules\/zod\//, 'worker'],
  ['AWS SDK (serialisation, signing, retry)', /node_modules\/@(aws-sdk|smithy|aws-crypto)\//, 'worker'],
  ['bybit-api (requests, signing)', /node_modules\/(bybit-api|axios)\//, 'worker'],
  ['Powertools (logger, metrics, batch)', /node_modules\/@aws-lambda-powertools\//, 'worker'],
  ['middy', /node_modules\/@middy\//, 'worker'],
  ['big.js', /node_modules\/big\.js\//, 'worker'],
  ['SQS stand-in (fauxqs)', /node_modules\/fauxqs\//, 'stand-in'],
  ['Bybit simulator', /\/local\/bybit-simulator\//, 'stand-in'],
  ['local pipeline (event source, market, report)', /\/local\//, 'stand-in'],
  ['other packages', /node_modules\//, 'shared'],
  ['Node.js (HTTP, streams, crypto, timers)', /^node:|^internal\//, 'shared'],
  ['V8 (GC, compiler, idle excluded)', /^$/, 'shared'],
];

function categoryOf(frame: CallFrame): (typeof CATEGORIES)[number] {
  return (
    CATEGORIES.find(([, pattern]) => pattern.test(frame.url)) ??
    (CATEGORIES.at(-1) as (typeof CATEGORIES)[number])
  );
}

async function burst(
  pipeline: LocalPipeline,
  accounts: readonly LocalAccount[],
): Promise<{ checks: number; seconds: number; requests: Record<string, number> }> {
  const queue = new SqsWorkQueue({ client: pipeline.sqs, queueUrl: pipeline.queues.queueUrl });
  const checksBefore = pipeline.telemetry.countOf(Metric.ChecksRun);
  const before = { ...Object.fromEntries(pipeline.dynamoRequests), ...prefixed(pipeline.sqsRequests) };
  const checks = Array.from({ length: burstSize }, (_, i) => {
    const account = accounts[i % accounts.length] as LocalAccount;
    const message: CheckMessage = { type: 'check', accountId: account.id, slot: 2e9 + i };
    return { message, delayMs: 0 };
  });
  const started = performance.now();
  await queue.sendChecks(checks);
  while (pipeline.telemetry.countOf(Metric.ChecksRun) - checksBefore < burstSize) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const after = { ...Object.fromEntries(pipeline.dynamoRequests), ...prefixed(pipeline.sqsRequests) };
  const requests = Object.fromEntries(
    Object.entries(after)
      .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
  return {
    checks: pipeline.telemetry.countOf(Metric.ChecksRun) - checksBefore,
    seconds: (performance.now() - started) / 1000,
    requests,
  };
}

function prefixed(counts: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...counts].map(([name, n]) => [`SQS ${name}`, n]));
}

let measured:
  | { checks: number; seconds: number; requests: Record<string, number>; profile: CpuProfile; cpuMs: number }
  | undefined;
await runEmbedded({
  accounts: Number(values.accounts),
  cycles: 5,
  dropRate: 0.02,
  seed: 1,
  workerConcurrency: Number(values.concurrency),
  settings: { capGlobal: 1_000 },
  afterSettle: async (pipeline, accounts) => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    const cpuBefore = process.cpuUsage();
    await session.post('Profiler.start');
    const result = await burst(pipeline, accounts);
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    const cpu = process.cpuUsage(cpuBefore);
    session.disconnect();
    measured = { ...result, profile, cpuMs: (cpu.user + cpu.system) / 1_000 };
  },
});
if (measured === undefined) throw new Error('the burst did not run');

const { profile, checks, seconds, cpuMs, requests } = measured;
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const selfMs = new Map<string, number>();
let idleMs = 0;
profile.samples.forEach((id, i) => {
  const node = byNode.get(id);
  const ms = (profile.timeDeltas[i] ?? 0) / 1_000;
  if (node === undefined) return;
  if (node.callFrame.functionName === '(idle)') {
    idleMs += ms;
    return;
  }
  const [name] = categoryOf(node.callFrame);
  selfMs.set(name, (selfMs.get(name) ?? 0) + ms);
});
const busyMs = [...selfMs.values()].reduce((a, b) => a + b, 0);
const kindMs = (kind: 'worker' | 'stand-in' | 'shared') =>
  CATEGORIES.filter(([, , k]) => k === kind).reduce((sum, [name]) => sum + (selfMs.get(name) ?? 0), 0);
const worker = kindMs('worker');
const standIns = kindMs('stand-in');
const shared = kindMs('shared');
// Node's and V8's own time serves both sides: it is split in proportion to their JavaScript.
const workerShare = worker / Math.max(1, worker + standIns);
const workerWithShared = worker + shared * workerShare;

const ownMs = CATEGORIES.filter(([name]) => name.startsWith('stopguard:')).reduce(
  (sum, [name]) => sum + (selfMs.get(name) ?? 0),
  0,
);
const rows = CATEGORIES.map(([name, , kind]) => [name, kind, selfMs.get(name) ?? 0] as const)
  .filter(([, , ms]) => ms > 0)
  .sort((a, b) => b[2] - a[2])
  .map(
    ([name, kind, ms]) =>
      `| ${name} | ${kind} | ${fixed(ms / checks, 3)} | ${fixed((ms / busyMs) * 100, 1)} % |`,
  );

const markdown = [
  '## Burst CPU profile',
  '',
  `Command: \`npm run bench:profile\`. Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  '',
  `A burst of ${int(checks)} checks for ${values.accounts} accounts through the whole local stack in one process (the worker handler with ${values.concurrency} pollers, the SQS stand-in, the HTTP Bybit simulator; DynamoDB Local is a Java process of its own and not in the profile), profiled by V8's sampling profiler (500 µs). It took ${fixed(seconds, 1)} s: ${int(checks / seconds)} checks/s, ${fixed(cpuMs / 1000, 1)} CPU-s of this process. Each sample's own time goes to the code it was in; Node's and V8's own time (HTTP parsing on both ends, GC) is split between the worker and the stand-ins in proportion to their JavaScript.`,
  '',
  '| where | whose | CPU ms per check | share of busy time |',
  '|---|---|---|---|',
  ...rows,
  '',
  `AWS SDK requests per check during the burst: ${Object.entries(requests)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fixed(n / checks, 2)}`)
    .join(', ')}.`,
  '',
  `stopguard's own code (functions/) takes ${fixed(ownMs / checks, 3)} ms per check, ${fixed((ownMs / Math.max(1, workerWithShared)) * 100, 1)} % of the worker's CPU; zod, big.js, Powertools and middy together ${fixed(['zod', 'big.js', 'Powertools (logger, metrics, batch)', 'middy'].reduce((sum, name) => sum + (selfMs.get(name) ?? 0), 0) / checks, 3)} ms. The rest is the clients: the AWS SDK (${fixed((selfMs.get('AWS SDK (serialisation, signing, retry)') ?? 0) / checks, 2)} ms for the requests counted below), bybit-api, and Node's HTTP and GC under them. So the lever on the worker's CPU is the number of requests a check makes, not its own code.`,
  '',
  `**The worker: ${fixed(workerWithShared / checks, 2)} ms of CPU per check, ${int((checks * 1000) / workerWithShared)} checks per CPU-second** (its JavaScript alone: ${fixed(worker / checks, 2)} ms). The stand-ins took ${fixed((standIns + shared * (1 - workerShare)) / checks, 2)} ms per check of the same process; idle ${fixed(idleMs / 1000, 1)} s.`,
].join('\n');
console.log(markdown);
if (!values['no-write']) {
  writeSection('docs/BENCHMARKS.md', 'profile', markdown);
  console.log('wrote the profile section of docs/BENCHMARKS.md');
}
process.exit(0);
