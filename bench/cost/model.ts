import { PRICES, SECONDS_PER_MONTH } from './prices.js';

/**
 * What one account costs a month on AWS, line by line, from counted operations. Pure: the counts come
 * from a simulation and a probe on DynamoDB Local (bench/cost.ts); every assumption the counts cannot
 * give is a named field of `Deployment`, stated beside the figures it produces.
 */

/** Counted per check of one account. */
export interface CheckQuantities {
  /** DynamoDB read and write request units (failed conditional writes included, as billed). */
  readonly readUnits: number;
  readonly writeUnits: number;
  /** DynamoDB requests (for the time a check waits on them). */
  readonly dynamoRequests: number;
  /** Exchange requests. */
  readonly exchangeCalls: number;
  /** Messages the check causes besides itself (delayed confirmations), each a SendMessage. */
  readonly followUpMessages: number;
  /** Bytes of decision lines the worker logs (its own fields; Powertools' context is added per line). */
  readonly logBytes: number;
  readonly logLines: number;
}

/**
 * A workload as the model takes it: the steady part of a check, and the part that comes with closes,
 * per check at the 10 s cadence it was counted at. At another cadence the closes per hour stay the
 * same, so the event part per check scales with the cadence.
 */
export interface WorkloadProfile {
  readonly name: string;
  readonly steady: CheckQuantities;
  readonly events: CheckQuantities;
}

export interface Deployment {
  readonly workerMemoryMb: number;
  /** Records per worker invocation at most (the event source's batch size). */
  readonly batchSize: number;
  /** Accounts one check message names (1 today: a message per account-check). */
  readonly checksPerMessage: number;
  /** The worker's most concurrent invocations (the event source's maximum concurrency). */
  readonly workerConcurrency: number;
  /** The event source's batching window, s (0: a batch is whatever one poll returns). */
  readonly batchingWindowS: number;
  /** Assumed round trip to Bybit from the region, ms, one per exchange request, in sequence. */
  readonly exchangeRoundTripMs: number;
  /** Assumed round trip to DynamoDB in region, ms. */
  readonly dynamoRoundTripMs: number;
  /** The worker's own CPU per check, ms (measured: the soak's burst). */
  readonly cpuMsPerCheck: number;
  readonly schedulerMemoryMb: number;
  /** The scheduler's CPU per account-minute, ms (measured: bench:scheduler). */
  readonly schedulerCpuMsPerAccount: number;
  readonly accountsPerShard: number;
  /** Bytes of an account record (the scheduler reads each once a minute). */
  readonly accountRecordBytes: number;
  /** Bytes stored per account (record, ledger, state, a quarter's audit). */
  readonly storedBytesPerAccount: number;
  /** Powertools' context on each log line (function, request id, timestamp, level, service). */
  readonly logContextBytes: number;
  /** Lambda's START/END/REPORT lines and one metrics (EMF) line, per invocation. */
  readonly invocationLogBytes: number;
  /** Where account keys live: one Secrets Manager secret each, or encrypted under one KMS key. */
  readonly keys: 'secret-per-account' | 'one-kms-key';
  /** How long a worker container keeps an account's keys, min. */
  readonly keyCacheMinutes: number;
  /** Custom metric names × dimension sets, alarms and dashboards: fixed per fleet. */
  readonly metrics: number;
  readonly alarms: number;
  readonly dashboards: number;
}

export interface Scenario {
  readonly accounts: number;
  readonly cadenceS: number;
}

export const LINES = [
  'Lambda worker',
  'Lambda scheduler',
  'SQS',
  'DynamoDB: checks',
  'DynamoDB: scheduler',
  'DynamoDB: storage',
  'CloudWatch Logs',
  'metrics, alarms, dashboard',
  'account keys',
] as const;
export type Line = (typeof LINES)[number];

export interface MonthlyCost {
  /** Dollars a month for the whole fleet, by line. */
  readonly fleet: Readonly<Record<Line, number>>;
  readonly fleetTotal: number;
  readonly perAccount: Readonly<Record<Line, number>>;
  readonly perAccountTotal: number;
  /** What the model derived on the way, for the report. */
  readonly derived: {
    readonly checksPerMonth: number;
    readonly recordsPerInvocation: number;
    readonly invocationMs: number;
    readonly sqsRequestsPerCheck: number;
    readonly logBytesPerCheck: number;
  };
}

const MINUTES_PER_MONTH = SECONDS_PER_MONTH / 60;
/** Lambda keeps at least five pollers long-polling each SQS source, 20 s per poll, when idle. */
const IDLE_RECEIVES_PER_MINUTE = 5 * 3;

export function monthlyCost(workload: WorkloadProfile, d: Deployment, s: Scenario): MonthlyCost {
  const p = PRICES;
  const checksPerMonth = (s.accounts * SECONDS_PER_MONTH) / s.cadenceS;
  const perCheck = combine(workload.steady, workload.events, s.cadenceS / 10);

  // Worker: records arrive at `rate` per second; one poll returns what arrived while the previous
  // batch ran (about 0.2 s) or within the batching window, up to the batch size.
  const messages = checksPerMonth / d.checksPerMessage + checksPerMonth * perCheck.followUpMessages;
  const rate = messages / SECONDS_PER_MONTH;
  const recordsPerInvocation = Math.min(d.batchSize, Math.max(1, rate * Math.max(0.2, d.batchingWindowS)));
  const checkMs =
    perCheck.exchangeCalls * d.exchangeRoundTripMs +
    perCheck.dynamoRequests * d.dynamoRoundTripMs +
    d.cpuMsPerCheck;
  // A batch's checks run at once: the invocation waits on the slowest, and their CPU is shared.
  const checksPerInvocation = recordsPerInvocation * d.checksPerMessage;
  const invocationMs = checkMs + (checksPerInvocation - 1) * d.cpuMsPerCheck;
  const invocations = messages / recordsPerInvocation;
  const worker =
    invocations * p.lambda.request +
    invocations * (invocationMs / 1_000) * (d.workerMemoryMb / 1_024) * p.lambda.gbSecond;

  // Scheduler: a fan-out a minute, and a run per shard listing its accounts.
  const shards = shardCount(s.accounts, d.accountsPerShard);
  const schedulerInvocations = MINUTES_PER_MONTH * (1 + shards);
  const schedulerSeconds =
    MINUTES_PER_MONTH * (0.1 + shards * 0.05) +
    (s.accounts * MINUTES_PER_MONTH * d.schedulerCpuMsPerAccount) / 1_000;
  const scheduler =
    schedulerInvocations * p.lambda.request +
    schedulerSeconds * (d.schedulerMemoryMb / 1_024) * p.lambda.gbSecond;

  // SQS: checks go out ten per SendMessageBatch; confirmations one by one; each batch the worker
  // receives is one receive and one delete; idle pollers on the three consumed queues.
  const messagesPerCheck = 1 / d.checksPerMessage + perCheck.followUpMessages;
  const sqsRequestsPerCheck =
    0.1 / d.checksPerMessage + perCheck.followUpMessages + (messagesPerCheck * 2) / recordsPerInvocation;
  const shardMessages = MINUTES_PER_MONTH * shards * 3;
  const idle = 3 * IDLE_RECEIVES_PER_MINUTE * MINUTES_PER_MONTH;
  const sqs = (checksPerMonth * sqsRequestsPerCheck + shardMessages + idle) * p.sqs.request;

  const dynamoChecks =
    checksPerMonth *
    (perCheck.readUnits * p.dynamodb.readRequestUnit + perCheck.writeUnits * p.dynamodb.writeRequestUnit);
  // Per minute: 3 writes and 3 reads per shard-minute, and each account record read once (eventual).
  const recordUnits = (s.accounts * d.accountRecordBytes) / 4_096 / 2;
  const dynamoScheduler =
    MINUTES_PER_MONTH *
    (3 * shards * p.dynamodb.writeRequestUnit + (3 + 64 + recordUnits) * p.dynamodb.readRequestUnit);
  const storageGb = (s.accounts * d.storedBytesPerAccount) / 1e9;
  const dynamoStorage = storageGb * (p.dynamodb.storageGbMonth + p.dynamodb.pitrGbMonth);

  const logBytesPerCheck =
    perCheck.logBytes +
    perCheck.logLines * d.logContextBytes +
    (d.invocationLogBytes * messagesPerCheck) / recordsPerInvocation;
  const logGb = (checksPerMonth * logBytesPerCheck + schedulerInvocations * d.invocationLogBytes * 1.5) / 1e9;
  const logs = logGb * (p.cloudwatch.logIngestGb + p.cloudwatch.logStorageGbMonth);

  const observability =
    d.metrics * p.cloudwatch.metricMonth +
    d.alarms * p.cloudwatch.alarmMonth +
    d.dashboards * p.cloudwatch.dashboardMonth;

  // Each container that checks an account within a cache period fetches its keys once.
  const containersPerAccount = Math.min(d.workerConcurrency, (d.keyCacheMinutes * 60) / s.cadenceS);
  const keyFetches = s.accounts * containersPerAccount * (MINUTES_PER_MONTH / d.keyCacheMinutes);
  const keys =
    d.keys === 'secret-per-account'
      ? s.accounts * p.secretsManager.secretMonth + keyFetches * (p.secretsManager.apiCall + p.kms.request)
      : p.kms.keyMonth + keyFetches * p.kms.request;

  const fleet: Record<Line, number> = {
    'Lambda worker': worker,
    'Lambda scheduler': scheduler,
    SQS: sqs,
    'DynamoDB: checks': dynamoChecks,
    'DynamoDB: scheduler': dynamoScheduler,
    'DynamoDB: storage': dynamoStorage,
    'CloudWatch Logs': logs,
    'metrics, alarms, dashboard': observability,
    'account keys': keys,
  };
  const fleetTotal = LINES.reduce((sum, line) => sum + fleet[line], 0);
  const perAccount = Object.fromEntries(LINES.map((line) => [line, fleet[line] / s.accounts])) as Record<
    Line,
    number
  >;
  return {
    fleet,
    fleetTotal,
    perAccount,
    perAccountTotal: fleetTotal / s.accounts,
    derived: { checksPerMonth, recordsPerInvocation, invocationMs, sqsRequestsPerCheck, logBytesPerCheck },
  };
}

/**
 * The always-on alternative users compare against: the naive loop in a 0.25 vCPU, 0.5 GB Fargate task
 * with a public address, one task per `accountsPerTask` accounts.
 */
export function containerMonthly(
  accounts: number,
  accountsPerTask = 1_000,
): { fleet: number; perAccount: number } {
  const p = PRICES.fargate;
  const task = (0.25 * p.vcpuHour + 0.5 * p.gbHour + p.ipv4Hour) * 730;
  const fleet = Math.ceil(accounts / accountsPerTask) * task;
  return { fleet, perAccount: fleet / accounts };
}

function shardCount(accounts: number, perShard: number): number {
  let shards = 1;
  while (shards < 64 && accounts / shards > perShard) shards *= 2;
  return shards;
}

function combine(steady: CheckQuantities, events: CheckQuantities, eventScale: number): CheckQuantities {
  const mix = (k: keyof CheckQuantities) => steady[k] + events[k] * eventScale;
  return {
    readUnits: mix('readUnits'),
    writeUnits: mix('writeUnits'),
    dynamoRequests: mix('dynamoRequests'),
    exchangeCalls: mix('exchangeCalls'),
    followUpMessages: mix('followUpMessages'),
    logBytes: mix('logBytes'),
    logLines: mix('logLines'),
  };
}
