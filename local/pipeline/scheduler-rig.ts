import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { ensureTable } from '#adapters/dynamodb/table.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import type { ShardCount } from '#contracts/messages.js';
import { EnvVar, readEnvironment } from '#handlers/environment.js';
import { createSchedulerHandler } from '#handlers/scheduler-handler.js';
import { wireScheduler } from '#handlers/scheduler-wiring.js';
import { localDynamoDbClient, localSqsClient } from '#local/standins/clients.js';
import { countRequests, type RequestCounts } from '#local/standins/request-counts.js';
import { createQueueWithDeadLetter, type QueuePair } from '#local/standins/sqs.js';
import type { FanOutOutcome } from '#orchestration/schedule.js';
import type { AccountRecord } from '#ports/accounts.js';
import { lambdaContext, scheduledEvent } from './lambda-events.js';
import { SqsEventSource } from './sqs-event-source.js';

export interface SchedulerRigOptions {
  /** A running DynamoDB Local and SQS stand-in. */
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly shards: ShardCount;
  /** Shard runs at once (Lambda's concurrency on the scheduler queue). */
  readonly concurrency: number;
}

/** One EventBridge tick and the shard runs it fanned out to, as measured. */
export interface ScheduledMinute {
  readonly fanOut: FanOutOutcome;
  /** From the event's handling to the last shard run's end. */
  readonly wallMs: number;
  readonly fanOutMs: number;
  /** Each shard run's duration, in the order they ended. */
  readonly shardRunMs: readonly number[];
  /** Accounts listed and checks sent by the shard runs (from their log lines). */
  readonly accountsScheduled: number;
  readonly checksSent: number;
  /** SDK requests during the minute, by command. */
  readonly dynamo: Readonly<Record<string, number>>;
  readonly sqs: Readonly<Record<string, number>>;
  /** This process's CPU time during the minute (user + system), ms. */
  readonly cpuMs: number;
}

/**
 * The scheduler function alone against DynamoDB Local and an SQS stand-in: the real handler and
 * wiring, its queue played by an event source with the stack's concurrency. For measuring a large
 * fleet's minute and for testing the shard path end to end; no worker consumes the checks.
 */
export class SchedulerRig {
  private readonly runs: number[] = [];
  private runsFailed = 0;
  private source: SqsEventSource | undefined;

  private constructor(
    private readonly dynamoDb: DynamoDBClient,
    private readonly sqs: SQSClient,
    readonly accounts: DynamoAccounts,
    readonly workQueue: QueuePair,
    readonly telemetry: MemoryTelemetry,
    private readonly handler: ReturnType<typeof createSchedulerHandler>,
    private readonly dynamoRequests: RequestCounts,
    private readonly sqsRequests: RequestCounts,
  ) {}

  static async start(options: SchedulerRigOptions): Promise<SchedulerRig> {
    const dynamoDb = localDynamoDbClient(options.dynamoEndpoint);
    const sqs = localSqsClient(options.sqsEndpoint);
    const tableName = `stopguard-scheduler-${Date.now()}`;
    await ensureTable(dynamoDb, tableName);
    const name = `rig-${Date.now()}`;
    const workQueue = await createQueueWithDeadLetter(sqs, {
      name: `${name}-work`,
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 3,
    });
    const scheduleQueue = await createQueueWithDeadLetter(sqs, {
      name: `${name}-schedule`,
      visibilityTimeoutSeconds: 60,
      maxReceiveCount: 3,
    });
    const environment = readEnvironment({
      [EnvVar.tableName]: tableName,
      [EnvVar.queueUrl]: workQueue.queueUrl,
      [EnvVar.scheduleQueueUrl]: scheduleQueue.queueUrl,
      [EnvVar.scheduleDeadLetterQueueUrl]: scheduleQueue.deadLetterQueueUrl,
      [EnvVar.scheduleShards]: String(options.shards),
    });
    // Counted from here: the requests the scheduler makes, not the rig's seeding.
    const dynamoRequests = countRequests(dynamoDb);
    const sqsRequests = countRequests(sqs);
    const telemetry = new MemoryTelemetry();
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger });
    const handler = createSchedulerHandler(
      async () => wireScheduler({ environment, dynamoDb, sqs, telemetry }),
      logger,
      metrics,
    );
    // Seeding goes through the same client: the minutes' figures are differences of its counts.
    const seeding = new DynamoAccounts({ client: dynamoDb, tableName });
    const rig = new SchedulerRig(
      dynamoDb,
      sqs,
      seeding,
      workQueue,
      telemetry,
      handler,
      dynamoRequests,
      sqsRequests,
    );
    rig.source = new SqsEventSource(
      sqs,
      scheduleQueue.queueUrl,
      scheduleQueue.queueArn,
      (event) => rig.runShards(event),
      options.concurrency,
      // One shard-minute per invocation, as the stack's event source mapping has it.
      1,
    );
    rig.source.start();
    return rig;
  }

  /** Stores `count` enabled accounts (`acct-0` …), 25 per batch write. */
  async seed(count: number, from = 0): Promise<void> {
    const records: AccountRecord[] = Array.from({ length: count }, (_, i) => ({
      accountId: `acct-${from + i}`,
      enabled: true,
      credentialsRef: `stopguard/acct-${from + i}`,
      exchange: { category: 'linear', settleCoins: ['USDT'] },
    }));
    for (let i = 0; i < records.length; i += 2_500) await this.accounts.putMany(records.slice(i, i + 2_500));
  }

  /** One EventBridge event for `scheduledAt`, and every shard run it caused, measured. */
  async minute(scheduledAt: number): Promise<ScheduledMinute> {
    const dynamoBefore = Object.fromEntries(this.dynamoRequests);
    const sqsBefore = Object.fromEntries(this.sqsRequests);
    const linesBefore = this.telemetry.lines.length;
    const runsBefore = this.runs.length + this.runsFailed;
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const fanOut = (await this.handler(
      scheduledEvent(scheduledAt),
      lambdaContext('stopguard-scheduler'),
    )) as FanOutOutcome;
    const fanOutMs = performance.now() - started;
    while (this.runs.length + this.runsFailed - runsBefore < fanOut.shardsSent) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const shardLines = this.telemetry.lines
      .slice(linesBefore)
      .filter((l) => l.fields?.checksSent !== undefined);
    const sum = (field: string) => shardLines.reduce((total, l) => total + Number(l.fields?.[field] ?? 0), 0);
    return {
      fanOut,
      wallMs,
      fanOutMs,
      shardRunMs: this.runs.slice(runsBefore),
      accountsScheduled: sum('accountsScheduled'),
      checksSent: sum('checksSent'),
      dynamo: difference(this.dynamoRequests, dynamoBefore),
      sqs: difference(this.sqsRequests, sqsBefore),
      cpuMs: (cpu.user + cpu.system) / 1_000,
    };
  }

  async stop(): Promise<void> {
    await this.source?.stop();
    this.dynamoDb.destroy();
    this.sqs.destroy();
  }

  private async runShards(event: SQSEvent): Promise<SQSBatchResponse> {
    const started = performance.now();
    try {
      const response = (await this.handler(event, lambdaContext('stopguard-scheduler'))) as SQSBatchResponse;
      if (response.batchItemFailures.length > 0) this.runsFailed++;
      else this.runs.push(performance.now() - started);
      return response;
    } catch (error) {
      this.runsFailed++;
      throw error;
    }
  }
}

function difference(now: RequestCounts, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    [...now].map(([name, count]) => [name, count - (before[name] ?? 0)]).filter(([, n]) => Number(n) > 0),
  );
}
