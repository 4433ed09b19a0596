import {
  type CheckQuantities,
  containerMonthly,
  type Deployment,
  LINES,
  monthlyCost,
  type WorkloadProfile,
} from './model.js';
import { PRICES } from './prices.js';

/** Per check, from the simulation of one workload (10 s cadence, 2 % drops). */
export interface WorkloadCounts {
  readonly name: string;
  readonly storeReads: number;
  readonly storeWrites: number;
  readonly accountReads: number;
  readonly exchangeCalls: number;
  readonly suspects: number;
}

/** What the pipeline probe on DynamoDB Local measured. */
export interface MeasuredInputs {
  readonly workloads: readonly WorkloadCounts[];
  readonly probe: {
    readonly checks: number;
    readonly suspects: number;
    readonly units: Readonly<Record<string, number>>;
    readonly unitRequests: Readonly<Record<string, number>>;
    readonly failedConditions: Readonly<Record<string, number>>;
    readonly requests: Readonly<Record<string, number>>;
    readonly logLines: number;
    readonly logBytes: number;
    readonly workerBatches: { readonly batches: number; readonly records: number };
  };
  readonly logContextBytes: number;
  readonly metricsLineBytes: number;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
/** Lambda's START, END and REPORT lines of one invocation. */
const PLATFORM_LINES_BYTES = 390;
/** The scheduler's CPU per account-minute, from `npm run bench:scheduler` (20,000 accounts). */
const SCHEDULER_CPU_MS_PER_ACCOUNT = 0.42;
/** The worker's CPU per check, from `npm run bench:profile` (its JavaScript and its share of Node's). */
const WORKER_CPU_MS_PER_CHECK = 2.7;
export const TARGET_PER_ACCOUNT = 0.05;

/** Units per operation of each kind, as the probe's DynamoDB Local billed them. */
export function unitsPerOperation(probe: MeasuredInputs['probe']) {
  const sum = (record: Readonly<Record<string, number>>, pick: (name: string) => boolean) =>
    Object.entries(record)
      .filter(([name]) => pick(name))
      .reduce((total, [, n]) => total + n, 0);
  const perRequest = (name: string) => (probe.units[name] ?? 0) / Math.max(1, probe.unitRequests[name] ?? 0);
  const isWrite = (name: string) =>
    !READS.has(name) && !/^(Describe|Create|List|UpdateTimeToLive)/.test(name);
  const writeRequests = sum(probe.requests, isWrite);
  const failed = sum(probe.failedConditions, () => true);
  return {
    query: perRequest('Query'),
    getItem: perRequest('GetItem'),
    // Each refused conditional write is billed at least one unit; no response reports it.
    write: (sum(probe.units, isWrite) + failed) / Math.max(1, writeRequests),
    failedShare: failed / Math.max(1, writeRequests),
  };
}

export function profiles(inputs: MeasuredInputs): WorkloadProfile[] {
  const units = unitsPerOperation(inputs.probe);
  const { probe } = inputs;
  const linesPerSuspect = probe.logLines / Math.max(1, probe.suspects);
  const bytesPerLine = probe.logBytes / Math.max(1, probe.logLines);
  const quantities = (w: WorkloadCounts): CheckQuantities => ({
    readUnits: w.storeReads * units.query + w.accountReads * units.getItem,
    writeUnits: w.storeWrites * units.write,
    dynamoRequests: w.storeReads + w.accountReads + w.storeWrites,
    exchangeCalls: w.exchangeCalls,
    // Every account-record read past the check's own is a confirmation (or a registration): a message.
    followUpMessages: Math.max(0, w.accountReads - 1),
    logLines: w.suspects * linesPerSuspect,
    logBytes: w.suspects * linesPerSuspect * bytesPerLine,
  });
  const steadyCounts = inputs.workloads.find((w) => w.name === 'steady');
  if (steadyCounts === undefined) throw new Error('the steady workload was not simulated');
  const steady = quantities(steadyCounts);
  return inputs.workloads.map((w) => {
    const all = quantities(w);
    const events = Object.fromEntries(
      (Object.keys(all) as (keyof CheckQuantities)[]).map((k) => [k, Math.max(0, all[k] - steady[k])]),
    ) as unknown as CheckQuantities;
    return { name: w.name, steady, events };
  });
}

/** The stack as it deploys today, with the model's stated assumptions. */
export function deployedStack(inputs: MeasuredInputs): Deployment {
  return {
    workerMemoryMb: 512,
    batchSize: 10,
    checksPerMessage: 1,
    workerConcurrency: 10,
    batchingWindowS: 0,
    exchangeRoundTripMs: 150,
    dynamoRoundTripMs: 6,
    cpuMsPerCheck: WORKER_CPU_MS_PER_CHECK,
    schedulerMemoryMb: 256,
    schedulerCpuMsPerAccount: SCHEDULER_CPU_MS_PER_ACCOUNT,
    accountsPerShard: 2_000,
    accountRecordBytes: 300,
    storedBytesPerAccount: 20_000,
    logContextBytes: inputs.logContextBytes,
    invocationLogBytes: PLATFORM_LINES_BYTES + inputs.metricsLineBytes,
    keys: 'secret-per-account',
    keyCacheMinutes: 60,
    metrics: 28,
    alarms: 20,
    dashboards: 1,
  };
}

const usd = (n: number) =>
  n >= 1 ? `$${n.toFixed(2)}` : n >= 0.01 ? `$${n.toFixed(3)}` : `$${n.toFixed(4)}`;
const FLEETS = [10, 100, 1_000, 10_000] as const;

export function costSection(
  inputs: MeasuredInputs,
  run: { command: string; machine: string; date: string; seconds: number },
): string {
  const all = profiles(inputs);
  const deployed = deployedStack(inputs);
  const units = unitsPerOperation(inputs.probe);
  const realistic = all.find((w) => w.name === 'realistic') ?? (all[0] as WorkloadProfile);
  const target = monthlyCost(realistic, deployed, { accounts: 1_000, cadenceS: 10 });

  const grid = all.flatMap((w) =>
    [10, 60].map((cadenceS) => [
      w.name,
      `${cadenceS} s`,
      ...FLEETS.map((accounts) => usd(monthlyCost(w, deployed, { accounts, cadenceS }).perAccountTotal)),
    ]),
  );
  const container = FLEETS.map((accounts) => usd(containerMonthly(accounts).perAccount));
  const lines = LINES.map((line) => [
    line,
    usd(target.perAccount[line]),
    `${((target.perAccount[line] / target.perAccountTotal) * 100).toFixed(0)} %`,
  ]);

  const levers: [string, Deployment][] = [
    ['as deployed', deployed],
    ['the worker at 256 MB (not built)', { ...deployed, workerMemoryMb: 256 }],
    [
      '… and the keys under one KMS key (not built)',
      { ...deployed, workerMemoryMb: 256, keys: 'one-kms-key' },
    ],
    [
      '… and 10 accounts per check message (not built)',
      { ...deployed, workerMemoryMb: 256, keys: 'one-kms-key', checksPerMessage: 10 },
    ],
  ];
  const leverRows = levers.map(([name, d]) => {
    const c = monthlyCost(realistic, d, { accounts: 1_000, cadenceS: 10 });
    const shown: (typeof LINES)[number][] = [
      'Lambda worker',
      'SQS',
      'DynamoDB: checks',
      'CloudWatch Logs',
      'account keys',
    ];
    return [name, usd(c.perAccountTotal), ...shown.map((l) => usd(c.perAccount[l]))];
  });
  const d = target.derived;
  const readsFloor =
    (d.checksPerMonth / 1_000) * (units.query + units.getItem) * PRICES.dynamodb.readRequestUnit;
  const allLevers = monthlyCost(realistic, (levers.at(-1) as [string, Deployment])[1], {
    accounts: 1_000,
    cadenceS: 10,
  });
  const slow = monthlyCost(realistic, deployed, { accounts: 1_000, cadenceS: 60 });
  const over = LINES.filter((line) => target.perAccount[line] > TARGET_PER_ACCOUNT / 4).sort(
    (a, b) => target.perAccount[b] - target.perAccount[a],
  );

  return [
    '## Cost per account-month',
    '',
    `Command: \`${run.command}\`. Machine: ${run.machine}. Date: ${run.date}. Whole run: ${run.seconds.toFixed(0)} s. Prices: ${PRICES.region}, on demand, no free tier, checked ${PRICES.checked} (bench/cost/prices.ts).`,
    '',
    "How the figures are made. The deterministic simulation counts, per check and per workload, the store's reads and writes, the account-record reads (each past the check's own is a confirmation or registration, so a message), the exchange calls and the suspects raised (stopguard's own orchestration, 2 % drops, 10 s cadence). A probe runs the real pipeline on DynamoDB Local and the SQS stand-in and reads what those weigh:",
    `DynamoDB billed ${units.query.toFixed(2)} read units per Query (the account partition, strongly consistent), ${units.getItem.toFixed(2)} per GetItem (the account record), ${units.write.toFixed(2)} write units per write request (${(units.failedShare * 100).toFixed(1)} % of writes were refused conditions, billed one unit each); a decision line is ${(inputs.probe.logBytes / Math.max(1, inputs.probe.logLines)).toFixed(0)} bytes of its own plus ${inputs.logContextBytes} of Powertools context; an invocation writes ${PLATFORM_LINES_BYTES} bytes of START/END/REPORT and a ${inputs.metricsLineBytes}-byte metrics line (the probe's worker got ${(inputs.probe.workerBatches.records / Math.max(1, inputs.probe.workerBatches.batches)).toFixed(1)} records per invocation from ten accounts). The worker's CPU is ${WORKER_CPU_MS_PER_CHECK} ms per check (\`npm run bench:profile\`), the scheduler's ${SCHEDULER_CPU_MS_PER_ACCOUNT} ms per account-minute (\`npm run bench:scheduler\`).`,
    "Assumed, not measured: a 150 ms round trip to Bybit per exchange request and 6 ms to DynamoDB, in sequence within a check; a batch's checks run at once; one poll returns what arrived in 0.2 s or within the batching window; Lambda's idle pollers (5 per queue, 20 s polls); 20 KB stored per account; 28 custom metrics, 20 alarms, one dashboard. At 60 s cadence the closes per hour stay those of the workload, so a check carries six times the event share.",
    '',
    '### Total per account-month, the stack as deployed',
    '',
    '| workload | cadence | 10 accounts | 100 | 1,000 | 10,000 |',
    '|---|---|---|---|---|---|',
    ...grid.map((r) => `| ${r.join(' | ')} |`),
    `| always-on container (naive loop, 0.25 vCPU, 0.5 GB, public IPv4, per 1,000 accounts) | any | ${container.join(' | ')} |`,
    '',
    `### The target: 10 s cadence, realistic workload, 1,000 accounts: ${usd(target.perAccountTotal)} against ${usd(TARGET_PER_ACCOUNT)}`,
    '',
    `Derived: ${Math.round(d.checksPerMonth / 1_000).toLocaleString('en')} checks per account-month (fleet: ${Math.round(d.checksPerMonth).toLocaleString('en')}); ${d.recordsPerInvocation.toFixed(1)} records per worker invocation of ${d.invocationMs.toFixed(0)} ms; ${d.sqsRequestsPerCheck.toFixed(2)} SQS requests and ${d.logBytesPerCheck.toFixed(0)} log bytes per check.`,
    '',
    '| line | $ per account-month | share |',
    '|---|---|---|',
    ...lines.map((r) => `| ${r.join(' | ')} |`),
    `| **total** | **${usd(target.perAccountTotal)}** | |`,
    '',
    `The lines that carry it past the target, largest first: ${over.map((l) => `${l} (${usd(target.perAccount[l])})`).join(', ')}. Why:`,
    `- account keys: a Secrets Manager secret is ${usd(PRICES.secretsManager.secretMonth)} a month by itself, ${(PRICES.secretsManager.secretMonth / TARGET_PER_ACCOUNT).toFixed(0)} times the target; the reads of it (each worker container once an hour) add the rest.`,
    `- DynamoDB: every check reads the account record (GetItem) and the account's partition (Query, strongly consistent): ${usd(readsFloor)} a month at 10 s cadence before any write. That is the floor of this design at this cadence: the record is read on every look so that an operator's disable or shadow switch is obeyed by the next one.`,
    "- Lambda worker: an invocation waits on Bybit, about 150 ms per request, billed at the worker's 512 MB whether it computes or waits.",
    '- SQS: a message per account-check, each sent (in tens), received and deleted.',
    '',
    `With every lever below, including those not built, the target case comes to ${usd(allLevers.perAccountTotal)}; at 60 s cadence, as deployed, ${usd(slow.perAccountTotal)}.`,
    '',
    '| deployment, 10 s, realistic, 1,000 accounts | total | Lambda worker | SQS | DynamoDB: checks | Logs | keys |',
    '|---|---|---|---|---|---|---|',
    ...leverRows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
