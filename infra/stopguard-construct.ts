/**
 * The Stopguard construct: stopguard on AWS, to drop into any stack. This file creates the table and
 * the functions and wires them together; the queues (`stopguard-queues.ts`), the functions'
 * permissions (`stopguard-access.ts`) and the alarms and dashboard (`stopguard-monitoring.ts`) are
 * built by helpers that create their resources directly in this construct, so every logical id is
 * `<this construct's path><resource id>` whichever file creates the resource.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm, Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { RecursiveLoop } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  PARTITION_KEY,
  SCHEDULE_BUCKET_ATTRIBUTE,
  SCHEDULE_INDEX,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '#adapters/dynamodb/table.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import type { ReconcileSettings } from '#contracts/settings.js';
import { EnvVar } from '#handlers/environment.js';
import { SHARD_RUN_LIMIT_MS } from '#orchestration/schedule.js';
import { acknowledge } from './acknowledge.js';
import { allowReconciling, allowRegistering, allowScheduling, grantRegister } from './stopguard-access.js';
import { createFixedEgress } from './stopguard-egress.js';
import { StopguardFunction } from './stopguard-function.js';
import { addMonitoring } from './stopguard-monitoring.js';
import { addAlarmNotifier } from './stopguard-notifier.js';
import {
  resolveSettings,
  type StopguardProps,
  settingsEnvironment,
  validBaseUrl,
  validOrigins,
  validScheduleShards,
  validSecretPrefix,
} from './stopguard-props.js';
import { createQueues, feedFromQueue } from './stopguard-queues.js';

// The props are the construct's API: importable from here as well as from their own file.
export type { LogLevel, StopguardProps } from './stopguard-props.js';

/**
 * Worker timeout: a batch of ten, each a paginated positions list or a confirmation pass (paced reads
 * that may wait out a rate-limit reset, then a last look and the cancels symbol by symbol). The claim
 * lease (60 s by default) must outlast it plus the queue's margin.
 */
const WORKER_TIMEOUT = Duration.seconds(45);
/**
 * The scheduler fans out one minute, or runs one shard of it; either must be done before the next
 * minute starts. A shard run still going after it is taken for dead and reported lost.
 */
const SCHEDULER_TIMEOUT = Duration.millis(SHARD_RUN_LIMIT_MS);
/** A registration is one read and two conditional writes; a batch of five fits many times over. */
const REGISTER_TIMEOUT = Duration.seconds(15);

/**
 * stopguard on AWS: the table, the work queue and its dead-letter queue, the scheduler and worker
 * functions, the bot's register queue with its own dead-letter queue and function, alarms on one SNS
 * topic, and a dashboard. Drop it into any stack.
 */
export class Stopguard extends Construct {
  readonly table: Table;
  /** stopguard's own queue (checks, confirms). Nothing outside stopguard may send to it. */
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The bot's ingress: `register` messages only. Producers get `grantRegister`. */
  readonly registerQueue: Queue;
  /** Registrations stopguard refused or could not parse (with a `reason` attribute), or that failed thrice. */
  readonly registerDeadLetterQueue: Queue;
  /** The scheduler's shard-minutes, from its fan-out to its shard runs. */
  readonly scheduleQueue: Queue;
  readonly scheduleDeadLetterQueue: Queue;
  readonly scheduler: StopguardFunction;
  readonly worker: StopguardFunction;
  readonly register: StopguardFunction;
  readonly alarmTopic: Topic;
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;
  /** The settings the functions run with, validated by the functions' own schema at synth time. */
  readonly settings: ReconcileSettings;

  constructor(scope: Construct, id: string, props: StopguardProps = {}) {
    super(scope, id);
    this.settings = resolveSettings(props);
    const secretPrefix = validSecretPrefix(props.secretPrefix ?? 'stopguard/');
    const extraExchangeOrigins = validOrigins(props.extraExchangeOrigins ?? []);
    const scheduleShards = validScheduleShards(props.scheduleShards);
    const bybitBaseUrl = validBaseUrl(props.bybitBaseUrl ?? 'https://api.bybit.com', extraExchangeOrigins);

    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The ledger of open positions and the audit trail must outlive the stack and any mistaken delete.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Sparse: only account records carry the bucket, so the index holds nothing else.
    this.table.addGlobalSecondaryIndex({
      indexName: SCHEDULE_INDEX,
      partitionKey: { name: SCHEDULE_BUCKET_ATTRIBUTE, type: AttributeType.NUMBER },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
    });

    const queues = createQueues(this, {
      workerTimeout: WORKER_TIMEOUT,
      claimLeaseMs: this.settings.claimLeaseMs,
      registerTimeout: REGISTER_TIMEOUT,
      schedulerTimeout: SCHEDULER_TIMEOUT,
    });
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.registerQueue = queues.registerQueue;
    this.registerDeadLetterQueue = queues.registerDeadLetterQueue;
    this.scheduleQueue = queues.scheduleQueue;
    this.scheduleDeadLetterQueue = queues.scheduleDeadLetterQueue;

    const common = {
      [EnvVar.tableName]: this.table.tableName,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    };
    const environment = {
      ...common,
      [EnvVar.queueUrl]: this.queue.queueUrl,
      [EnvVar.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [EnvVar.secretPrefix]: secretPrefix,
      [EnvVar.bybitBaseUrl]: bybitBaseUrl,
      [EnvVar.auditRetentionDays]: String(props.auditRetentionDays ?? 90),
      // Every setting is written out, defaults included, so the console shows what is actually running.
      ...settingsEnvironment(this.settings),
    };
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.scheduler = new StopguardFunction(this, 'Scheduler', {
      entry: 'functions/handlers/scheduler.ts',
      description: 'Fans each minute out into shard-minutes, and each shard-minute into account checks',
      timeout: SCHEDULER_TIMEOUT,
      memorySize: 256,
      environment: {
        ...environment,
        [EnvVar.scheduleQueueUrl]: this.scheduleQueue.queueUrl,
        [EnvVar.scheduleDeadLetterQueueUrl]: this.scheduleDeadLetterQueue.queueUrl,
        [EnvVar.scheduleShards]: String(scheduleShards),
      },
      logRetention,
    });
    const network = props.fixedEgress === undefined ? undefined : createFixedEgress(this, props.fixedEgress);
    this.worker = new StopguardFunction(this, 'Worker', {
      entry: 'functions/handlers/worker.ts',
      description: 'Checks positions, confirms suspects, cancels proven orphans under the cap',
      timeout: WORKER_TIMEOUT,
      memorySize: 512,
      environment: {
        ...environment,
        ...(extraExchangeOrigins.length === 0
          ? {}
          : { [EnvVar.extraExchangeOrigins]: extraExchangeOrigins.join(',') }),
      },
      logRetention,
      // The worker feeds its own queue on purpose (check → delayed confirm → retried confirm …). Lambda's
      // loop detection would cut such a chain after about 16 hops and park the confirm in the dead-letter
      // queue, leaving the suspect unresolved. It is no runaway loop: every hop waits out an SQS delay,
      // and the chain ends when its suspect is resolved.
      recursiveLoop: RecursiveLoop.ALLOW,
      ...(network === undefined ? {} : { network }),
    });

    this.register = new StopguardFunction(this, 'Register', {
      entry: 'functions/handlers/register.ts',
      description: "Adds the positions the bot registers to the ledger (the bot's only way in)",
      timeout: REGISTER_TIMEOUT,
      memorySize: 256,
      // The table and its own dead-letter queue only: no work queue, no secret prefix, no exchange.
      environment: { ...common, [EnvVar.registerDeadLetterQueueUrl]: this.registerDeadLetterQueue.queueUrl },
      logRetention,
    });

    allowScheduling(this.scheduler, {
      table: this.table,
      queue: this.queue,
      scheduleQueue: this.scheduleQueue,
      scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
    });
    allowReconciling(this.worker, {
      table: this.table,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      secretPrefix,
    });
    allowRegistering(this.register, {
      table: this.table,
      registerDeadLetterQueue: this.registerDeadLetterQueue,
    });

    const everyMinute = new Rule(this, 'EveryMinute', {
      description:
        'stopguard: schedule the next minute of account checks (and the rest of this one if unscheduled)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.scheduler.function)],
    });
    const lostTick =
      'The event is only a clock tick: the next run schedules any minute this one missed, and a ' +
      'scheduler that keeps failing raises the SchedulerErrors and NoChecks alarms. A dead-lettered ' +
      'tick would hold nothing to redrive.';
    acknowledge(everyMinute, 'Serverless-EventBusDLQ', lostTick);
    acknowledge(this.scheduler, 'Serverless-LambdaDLQ', lostTick);

    feedFromQueue(this.worker, this.queue, {
      batchSize: 10,
      maxConcurrency: props.workerMaxConcurrency ?? 10,
    });
    // Shard runs in parallel: a sharded fleet's minute is sent by as many runs as it has shards.
    feedFromQueue(this.scheduler, this.scheduleQueue, {
      batchSize: 1,
      maxConcurrency: Math.max(2, scheduleShards),
    });
    // Registrations are rare and cheap; two at once (the least SQS allows) keeps a flood from the bot
    // from competing with the worker for the account's concurrency.
    feedFromQueue(this.register, this.registerQueue, { batchSize: 5, maxConcurrency: 2 });

    const monitoring = addMonitoring(
      this,
      {
        queue: this.queue,
        deadLetterQueue: this.deadLetterQueue,
        registerQueue: this.registerQueue,
        registerDeadLetterQueue: this.registerDeadLetterQueue,
        scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
        scheduler: this.scheduler,
        worker: this.worker,
        register: this.register,
      },
      { ...props, shadow: this.settings.shadow },
    );
    this.alarmTopic = monitoring.alarmTopic;
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
    const { unprotectedPositions, suspectsStuck, keptForLackOfEvidence, capRefusals } = monitoring.alarms;
    addAlarmNotifier(this, {
      alarms: [unprotectedPositions, suspectsStuck, keptForLackOfEvidence, capRefusals].filter(
        (a): a is NonNullable<typeof a> => a !== undefined,
      ),
      topic: monitoring.alarmTopic,
      workerLogs: this.worker.logGroup,
      logRetention,
    });
  }

  /**
   * Lets a producer (the bot's role) send `register` messages, and nothing else: `sqs:SendMessage` on
   * the register queue only. Never grant the work queue: what arrives there is acted on as
   * stopguard's own word. The queues use SQS-managed encryption, so no key grant is needed.
   */
  grantRegister(grantee: IGrantable): Grant {
    return grantRegister(this.registerQueue, grantee);
  }
}
