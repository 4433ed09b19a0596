import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import { StaticCredentials } from '#adapters/credentials/static-credentials.js';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { ensureTable } from '#adapters/dynamodb/table.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import type { IngressMessage, WorkMessage } from '#contracts/messages.js';
import { envName, type ReconcileSettings } from '#contracts/settings.js';
import { EnvVar, readEnvironment } from '#handlers/environment.js';
import { createRegisterHandler } from '#handlers/register-handler.js';
import { wireRegister } from '#handlers/register-wiring.js';
import { createSchedulerHandler } from '#handlers/scheduler-handler.js';
import { wireScheduler } from '#handlers/scheduler-wiring.js';
import { createWorkerHandler } from '#handlers/worker-handler.js';
import { wireWorker } from '#handlers/worker-wiring.js';
import { localDynamoDbClient, localSqsClient } from '#local/standins/clients.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '#local/standins/dynamodb-local.js';
import {
  type CapacityTally,
  countRequests,
  type RequestCounts,
  tallyCapacity,
} from '#local/standins/request-counts.js';
import { createQueueWithDeadLetter, type LocalSqs, type QueuePair, startSqs } from '#local/standins/sqs.js';
import type { FanOutOutcome } from '#orchestration/schedule.js';
import type { AccountRecord } from '#ports/accounts.js';
import type { Clock } from '#ports/clock.js';
import { ConsoleTelemetry } from './console-telemetry.js';
import { lambdaContext, scheduledEvent } from './lambda-events.js';
import { SqsEventSource } from './sqs-event-source.js';

/** One exchange account as the local accounts file lists it. Keys stay in memory, never in DynamoDB. */
export const localAccountSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only'),
  apiKey: z.string().min(1),
  apiSecret: z.string().min(1),
  category: z.enum(['linear', 'inverse']).optional(),
  settleCoin: z
    .string()
    .regex(/^[A-Z0-9]{2,10}$/)
    .optional(),
  shadow: z.boolean().optional(),
});
export type LocalAccount = z.infer<typeof localAccountSchema>;
export const localAccountsFileSchema = z.array(localAccountSchema).min(1);

/** Secrets of the local run live under this prefix, as they would under the stack's on AWS. */
const LOCAL_SECRET_PREFIX = 'local/';

export interface LocalPipelineOptions {
  readonly accounts: readonly LocalAccount[];
  /** The Bybit V5 endpoint: the embedded simulator, testnet, demo trading. */
  readonly exchangeUrl: string;
  /** Setting overrides, as the Lambda environment would carry them. */
  readonly settings?: Partial<Record<keyof ReconcileSettings, string | number | boolean>>;
  /** Parallel pollers of the work queue (Lambda's concurrency). Default 4. */
  readonly workerConcurrency?: number;
  /** Where every structured log line goes (JSON lines); none by default. */
  readonly logFile?: string;
  /** Prints alarm lines as they happen. */
  readonly echo?: (line: string) => void;
  /** Exchange-time source for the orchestration (default: the system clock). */
  readonly clock?: Clock;
  /** Shards the scheduler splits the fleet into (`STOPGUARD_SCHEDULE_SHARDS`); default 1. */
  readonly scheduleShards?: number;
}

export type { RequestCounts } from '#local/standins/request-counts.js';

export interface LocalPipeline {
  readonly telemetry: ConsoleTelemetry;
  readonly queues: QueuePair;
  /** The bot's ingress: registrations only, with a dead-letter queue of its own. */
  readonly registerQueues: QueuePair;
  /** The scheduler's own queue of shard-minutes. */
  readonly scheduleQueues: QueuePair;
  readonly tableName: string;
  /** DynamoDB Local's endpoint: what `npx stopguard --endpoint` reads the run's state from. */
  readonly dynamoEndpoint: string;
  readonly dynamoDb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly worker: SqsEventSource;
  readonly registrar: SqsEventSource;
  /** Plays the scheduler queue's event source: each shard-minute to the scheduler handler. */
  readonly shardRunner: SqsEventSource;
  readonly dynamoRequests: RequestCounts;
  readonly sqsRequests: RequestCounts;
  /** DynamoDB units consumed, as billed, and conditional writes refused. */
  readonly dynamoCapacity: CapacityTally;
  readonly settings: ReconcileSettings;
  /** One EventBridge tick: the scheduler handler, as on AWS; `scheduledAt` is the event's `time` (default now). */
  runScheduler(scheduledAt?: number): Promise<FanOutOutcome>;
  /** Puts a message on the work queue, as the scheduler or the worker would (or a raw body, as anyone could). */
  send(message: WorkMessage | string): Promise<void>;
  /** Puts a message on the bot's ingress queue, as the trading bot does. */
  sendToIngress(message: IngressMessage | string): Promise<void>;
  /** Stops polling, then the stand-ins. */
  stop(): Promise<void>;
}

/**
 * The serverless pipeline on this machine: DynamoDB Local and an SQS stand-in on 127.0.0.1, the table
 * and queues created through the SDK as the CDK stack defines them, and the very handlers the Lambda
 * functions export, wired by the same `wireWorker` / `wireScheduler` to clients of the stand-ins. A
 * poller plays the SQS event source; the caller's timer plays EventBridge.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const started: { dynamo?: DynamoDbLocal; sqs?: LocalSqs } = {};
  try {
    started.dynamo = await startDynamoDbLocal();
    started.sqs = await startSqs();
  } catch (error) {
    await started.sqs?.stop();
    await started.dynamo?.stop();
    throw error;
  }
  const dynamoDb = localDynamoDbClient(started.dynamo.endpoint);
  const sqs = localSqsClient(started.sqs.endpoint);
  const dynamoRequests = countRequests(dynamoDb);
  const sqsRequests = countRequests(sqs);
  const dynamoCapacity = tallyCapacity(dynamoDb);

  const tableName = 'stopguard-local';
  await ensureTable(dynamoDb, tableName);
  // Visibility longer than the claim lease, as in the stack: a crashed confirmation is retaken by
  // the redelivery only once its lease has run out.
  const queues = await createQueueWithDeadLetter(sqs, {
    name: 'stopguard-work',
    visibilityTimeoutSeconds: 45,
    maxReceiveCount: 3,
  });
  const registerQueues = await createQueueWithDeadLetter(sqs, {
    name: 'stopguard-register',
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 3,
  });
  const scheduleQueues = await createQueueWithDeadLetter(sqs, {
    name: 'stopguard-schedule',
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 3,
  });

  const environment = readEnvironment({
    [EnvVar.tableName]: tableName,
    [EnvVar.queueUrl]: queues.queueUrl,
    [EnvVar.deadLetterQueueUrl]: queues.deadLetterQueueUrl,
    [EnvVar.secretPrefix]: LOCAL_SECRET_PREFIX,
    [EnvVar.bybitBaseUrl]: options.exchangeUrl,
    // Local mode names the one endpoint it was started against, so a stand-in may be plain http.
    [EnvVar.extraExchangeOrigins]: localExchangeOrigin(options.exchangeUrl),
    [EnvVar.registerDeadLetterQueueUrl]: registerQueues.deadLetterQueueUrl,
    [EnvVar.scheduleQueueUrl]: scheduleQueues.queueUrl,
    [EnvVar.scheduleDeadLetterQueueUrl]: scheduleQueues.deadLetterQueueUrl,
    [EnvVar.scheduleShards]: String(options.scheduleShards ?? 1),
    [envName('claimLeaseMs')]: '30000',
    ...Object.fromEntries(
      Object.entries(options.settings ?? {}).map(([k, v]) => [
        envName(k as keyof ReconcileSettings),
        String(v),
      ]),
    ),
  });

  const accountsDirectory = new DynamoAccounts({ client: dynamoDb, tableName });
  for (const account of options.accounts) await accountsDirectory.put(accountRecordOf(account));
  const credentials = new StaticCredentials(
    Object.fromEntries(
      options.accounts.map((a) => [
        `${LOCAL_SECRET_PREFIX}${a.id}`,
        { apiKey: a.apiKey, apiSecret: a.apiSecret },
      ]),
    ),
  );

  const telemetry = new ConsoleTelemetry(options.logFile, options.echo ?? (() => {}));
  // Whatever a line says, the keys this run was given never reach the console or the log file.
  telemetry.redactSecrets(options.accounts.flatMap((a) => [a.apiKey, a.apiSecret]));
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const { logger, metrics } = quietPowertools();
  const workerHandler = createWorkerHandler(
    async () => wireWorker({ environment, dynamoDb, sqs, credentials, telemetry, ...clock }),
    logger,
    metrics,
  );
  const schedulerHandler = createSchedulerHandler(
    async () => wireScheduler({ environment, dynamoDb, sqs, telemetry, ...clock }),
    logger,
    metrics,
  );

  const worker = new SqsEventSource(
    sqs,
    queues.queueUrl,
    queues.queueArn,
    (event) => workerHandler(event, lambdaContext('stopguard-worker')),
    options.workerConcurrency ?? 4,
  );
  worker.start();
  const registerHandler = createRegisterHandler(
    async () => wireRegister({ environment, dynamoDb, sqs, telemetry, ...clock }),
    logger,
    metrics,
  );
  const registrar = new SqsEventSource(
    sqs,
    registerQueues.queueUrl,
    registerQueues.queueArn,
    (event) => registerHandler(event, lambdaContext('stopguard-register')),
    1,
  );
  registrar.start();
  // Shard runs in parallel, as Lambda would run them: a sharded fleet's minute is sent by several at once.
  const shardRunner = new SqsEventSource(
    sqs,
    scheduleQueues.queueUrl,
    scheduleQueues.queueArn,
    (event) => schedulerHandler(event, lambdaContext('stopguard-scheduler')) as Promise<SQSBatchResponse>,
    Math.min(8, options.scheduleShards ?? 1),
    1,
  );
  shardRunner.start();

  return {
    telemetry,
    queues,
    registerQueues,
    tableName,
    dynamoEndpoint: started.dynamo.endpoint,
    dynamoDb,
    sqs,
    worker,
    registrar,
    shardRunner,
    scheduleQueues,
    dynamoRequests,
    sqsRequests,
    dynamoCapacity,
    settings: environment.settings,
    runScheduler: (scheduledAt) =>
      schedulerHandler(
        scheduledEvent(scheduledAt ?? Date.now()),
        lambdaContext('stopguard-scheduler'),
      ) as Promise<FanOutOutcome>,
    send: (message) => sendTo(sqs, queues.queueUrl, message),
    sendToIngress: (message) => sendTo(sqs, registerQueues.queueUrl, message),
    stop: async () => {
      await Promise.all([worker.stop(), registrar.stop(), shardRunner.stop()]);
      dynamoDb.destroy();
      sqs.destroy();
      await started.sqs?.stop();
      await started.dynamo?.stop();
    },
  };
}

async function sendTo(sqs: SQSClient, queueUrl: string, message: object | string): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: typeof message === 'string' ? message : JSON.stringify(message),
    }),
  );
}

export class UnsafeExchangeUrlError extends Error {
  override readonly name = 'UnsafeExchangeUrlError';
}

/**
 * The origin local mode may send signed requests to: any https endpoint the operator names, and plain
 * http only on this machine or a private network (a simulator, a stand-in). Over http to a public host
 * the keys and signatures would cross the internet in clear text.
 */
export function localExchangeOrigin(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnsafeExchangeUrlError(`--exchange-url ${url} is not a URL`);
  }
  if (parsed.protocol === 'https:') return parsed.origin;
  if (parsed.protocol === 'http:' && isLocalHost(parsed.hostname)) return parsed.origin;
  throw new UnsafeExchangeUrlError(
    `--exchange-url ${parsed.origin}: plain http only to this machine or a private network; use https for ${parsed.hostname}`,
  );
}

function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host === '::1')
    return true;
  // A single-label name (a container or host on the local network).
  if (/^[a-z0-9-]+$/.test(host)) return true;
  const octets = host.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a = -1, b = -1] = octets;
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** The account item stored in DynamoDB for a local account: a reference to its keys, never the keys. */
export function accountRecordOf(account: LocalAccount): AccountRecord {
  return {
    accountId: account.id,
    enabled: true,
    credentialsRef: `${LOCAL_SECRET_PREFIX}${account.id}`,
    exchange: {
      category: account.category ?? 'linear',
      settleCoins: [account.settleCoin ?? 'USDT'],
    },
    ...(account.shadow === undefined ? {} : { settings: { shadow: account.shadow } }),
  };
}

/** Counts every request a client sends, by command, without touching what it sends. */
/**
 * Powertools as the handlers expect it, quiet: locally the ConsoleTelemetry is what reports, and EMF
 * lines on stdout would drown the progress table.
 */
function quietPowertools(): { logger: Logger; metrics: Metrics } {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });
  return { logger, metrics };
}
