import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  Metric as CloudWatchMetric,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RecursiveLoop } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Keys, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../functions/adapters/dynamodb/table.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/adapters/powertools/telemetry.js';
import { EnvVar } from '../functions/handlers/environment.js';
import {
  applyOverrides,
  defaultSettings,
  envName,
  type ReconcileSettings,
  type SettingsOverrides,
} from '../functions/orchestration/settings.js';
import { Metric, type MetricName } from '../functions/ports/telemetry.js';
import { StopguardFunction } from './stopguard-function.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface StopguardProps {
  /** How often each account is checked; must divide a minute. Default 10 s. */
  readonly cadence?: Duration;
  /** Wait between the fetch that missed a position and the confirming fetch. Default 5 s. */
  readonly confirmDelay?: Duration;
  /** Most orders cancelled per account per cap window. Default 10. */
  readonly capPerAccount?: number;
  /** Most orders cancelled across all accounts per cap window. Default 50. */
  readonly capGlobal?: number;
  /** Default 1 minute. */
  readonly capWindow?: Duration;
  /** How long a confirmation claim is held before a redelivery may retake it. Default 60 s. */
  readonly claimLease?: Duration;
  /**
   * Record every decision but cancel nothing. Default TRUE: a first deployment shows what it would do
   * (ShadowCancelsSkipped, the audit trail) before it is allowed to touch an order.
   */
  readonly shadow?: boolean;
  /** Any other reconciliation setting (evidence grace, distrust fraction, …); the named props win. */
  readonly settings?: SettingsOverrides;
  /** Subscribed to the alarm topic when given; otherwise subscribe to the topic yourself. */
  readonly alarmEmail?: string;
  /** Powertools log level. Default INFO. */
  readonly logLevel?: LogLevel;
  /** Default https://api.bybit.com (an account record may name its own, e.g. the testnet). */
  readonly bybitBaseUrl?: string;
  /** Accounts' credentials are secrets under this name prefix; the worker can read no other. Default `stopguard/`. */
  readonly secretPrefix?: string;
  /** Alarm when an account has had no complete snapshot for this long. Default 10 minutes. */
  readonly staleAfter?: Duration;
  /** Audit entries expire (DynamoDB TTL) after this many days. Default 90. */
  readonly auditRetentionDays?: number;
  /** Default one month. */
  readonly logRetention?: RetentionDays;
  /** Most worker invocations at once (SQS event source maximum concurrency, 2–1000). Default 10. */
  readonly workerMaxConcurrency?: number;
  /** Alarm when more incomplete responses than this are observed in 5 minutes. Default 20. */
  readonly incompleteResponsesPer5Minutes?: number;
  /** Alarm when more distrusted snapshots than this are seen in 5 minutes. Default 2. */
  readonly distrustedSnapshotsPer5Minutes?: number;
}

/** Worker timeout: a batch of ten, each a paginated positions fetch or a confirm with history lookups. */
const WORKER_TIMEOUT = Duration.seconds(30);
/** The scheduler fans out one minute; it must be done before the next one starts. */
const SCHEDULER_TIMEOUT = Duration.seconds(50);
/** Margin on the visibility timeout for clock differences between SQS and the worker. */
const VISIBILITY_MARGIN = Duration.seconds(10);
const FIVE_MINUTES = Duration.minutes(5);

/**
 * stopguard on AWS: the table, the work queue and its dead-letter queue, the scheduler and worker
 * functions, alarms on one SNS topic, and a dashboard. Drop it into any stack.
 */
export class Stopguard extends Construct {
  readonly table: Table;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly scheduler: StopguardFunction;
  readonly worker: StopguardFunction;
  readonly alarmTopic: Topic;
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;
  /** The settings the functions run with, validated by the functions' own schema at synth time. */
  readonly settings: ReconcileSettings;

  constructor(scope: Construct, id: string, props: StopguardProps = {}) {
    super(scope, id);
    this.settings = resolveSettings(props);
    const secretPrefix = props.secretPrefix ?? 'stopguard/';
    if (secretPrefix.length === 0 || /[*?]/.test(secretPrefix)) {
      throw new Error(`secretPrefix must be a non-empty literal prefix, got "${secretPrefix}"`);
    }

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

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    // The visibility timeout must cover a whole worker invocation AND the claim lease. A worker may claim
    // a suspect as late as the end of its run, and the claim is held for `claimLeaseMs` after that. If
    // the worker dies, the message must reappear only after that lease has run out: a redelivery that
    // arrives earlier finds the suspect still claimed, takes it for a duplicate and does nothing, and the
    // confirmation is lost until a later check notices it is overdue. (It also keeps a still-running
    // invocation from being handed the same message twice.)
    // A lease shorter than a worker's run would let a redelivery retake a confirmation still running.
    if (this.settings.claimLeaseMs < WORKER_TIMEOUT.toMilliseconds() + VISIBILITY_MARGIN.toMilliseconds()) {
      throw new Error(
        `claimLease (${this.settings.claimLeaseMs} ms) must outlast a worker invocation (timeout ${WORKER_TIMEOUT.toSeconds()} s) plus ${VISIBILITY_MARGIN.toSeconds()} s`,
      );
    }
    const visibilityTimeout = Duration.seconds(
      Math.ceil(
        WORKER_TIMEOUT.toSeconds() + this.settings.claimLeaseMs / 1000 + VISIBILITY_MARGIN.toSeconds(),
      ),
    );
    this.queue = new Queue(this, 'WorkQueue', {
      visibilityTimeout,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A message failing three times in a row (exchange down, a bug) is parked for a person to look at.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
    });

    const environment = {
      [EnvVar.tableName]: this.table.tableName,
      [EnvVar.queueUrl]: this.queue.queueUrl,
      [EnvVar.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [EnvVar.secretPrefix]: secretPrefix,
      [EnvVar.bybitBaseUrl]: props.bybitBaseUrl ?? 'https://api.bybit.com',
      [EnvVar.auditRetentionDays]: String(props.auditRetentionDays ?? 90),
      // Every setting is written out, defaults included, so the console shows what is actually running.
      ...settingsEnvironment(this.settings),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
    };
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.scheduler = new StopguardFunction(this, 'Scheduler', {
      entry: 'functions/handlers/scheduler.ts',
      description: 'Fans each minute out into per-account check messages',
      timeout: SCHEDULER_TIMEOUT,
      memorySize: 256,
      environment,
      logRetention,
    });
    this.worker = new StopguardFunction(this, 'Worker', {
      entry: 'functions/handlers/worker.ts',
      description: 'Checks positions, confirms suspects, cancels proven orphans under the cap',
      timeout: WORKER_TIMEOUT,
      memorySize: 512,
      environment,
      logRetention,
      // The worker feeds its own queue on purpose (check → delayed confirm → retried confirm …). Lambda's
      // loop detection would cut such a chain after about 16 hops and park the confirm in the dead-letter
      // queue, leaving the suspect unresolved. It is no runaway loop: every hop waits out an SQS delay,
      // and the chain ends when its suspect is resolved.
      recursiveLoop: RecursiveLoop.ALLOW,
    });

    this.allowScheduling(this.scheduler);
    this.allowReconciling(this.worker, secretPrefix);

    new Rule(this, 'EveryMinute', {
      description:
        'stopguard: schedule the next minute of account checks (and the rest of this one if unscheduled)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.scheduler.function)],
    });
    this.worker.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxConcurrency: props.workerMaxConcurrency ?? 10,
        // One failing record is retried alone; the rest of its batch is not redelivered.
        reportBatchItemFailures: true,
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'stopguard alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined && props.alarmEmail !== '') {
      this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    }
    this.alarms = this.createAlarms(props);
    this.dashboard = this.createDashboard(props);
  }

  /**
   * The scheduler reads account records, claims (and gives back) schedule windows, and enqueues checks. Nothing else:
   * no secrets, no positions, suspects or caps (it holds no credentials and cannot cancel anything).
   * `dynamodb:LeadingKeys` confines each statement to its partitions of the single table.
   */
  private allowScheduling(fn: StopguardFunction): void {
    fn.allow(
      new PolicyStatement({
        sid: 'ReadAccountRecords',
        actions: ['dynamodb:Query', 'dynamodb:GetItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.accountsPartition]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        // PutItem claims a window; DeleteItem gives it back when the send failed, so the retried event
        // can schedule it. Both only on the schedule-claim partitions.
        sid: 'ClaimScheduleWindows',
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.scheduleClaim('*', '*').PK]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'EnqueueChecks',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
  }

  /**
   * The worker keeps each account's ledger, suspects and state, counts cancels against the cap and
   * writes the audit trail. It reads account records but cannot change them, and cannot touch schedule
   * claims. One statement per purpose, each confined by `dynamodb:LeadingKeys` to its partitions and
   * holding only the calls the DynamoDB adapters make there. It sends confirms to its own queue and
   * malformed messages to the dead-letter queue, and reads exchange credentials only from secrets under
   * the prefix.
   */
  private allowReconciling(fn: StopguardFunction, secretPrefix: string): void {
    fn.allow(
      new PolicyStatement({
        sid: 'ReadAccountRecords',
        actions: ['dynamodb:GetItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.accountsPartition]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'KeepAccountState',
        actions: [
          'dynamodb:Query',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.accountPartition('*')]),
      }),
    );
    // The cap's both-or-neither acquire is a TransactWriteItems of two updates. IAM has no action for the
    // transaction itself: each item in it is authorised as the UpdateItem it is.
    fn.allow(
      new PolicyStatement({
        sid: 'CountCancelsUnderCap',
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.capAccount('*', '*').PK, Keys.capGlobal('*').PK]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'WriteAuditTrail',
        actions: ['dynamodb:BatchWriteItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([auditPartitionPattern()]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'SendConfirmsAndDeadLetters',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn, this.deadLetterQueue.queueArn],
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'ReadExchangeCredentials',
        actions: ['secretsmanager:GetSecretValue'],
        // Secret ARNs end in a random six-character suffix, hence the trailing wildcard.
        resources: [
          Stack.of(this).formatArn({
            service: 'secretsmanager',
            resource: 'secret',
            resourceName: `${secretPrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
  }

  private createAlarms(props: StopguardProps): Record<string, Alarm> {
    const action = new SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      metric: IMetric,
      options: {
        threshold: number;
        comparison?: ComparisonOperator;
        missing?: TreatMissingData;
        description: string;
      },
    ): Alarm => {
      const created = new Alarm(this, id, {
        metric,
        threshold: options.threshold,
        evaluationPeriods: 1,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No data points for a decision count means no such decision happened.
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
        alarmDescription: options.description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };
    const staleAfter = props.staleAfter ?? Duration.minutes(10);
    const sum5 = (name: MetricName) => stopguardMetric(name, 'Sum', FIVE_MINUTES);

    return {
      keptForLackOfEvidence: alarm('KeptForLackOfEvidenceAlarm', sum5(Metric.KeptForLackOfEvidence), {
        threshold: 0,
        description:
          'stopguard kept protective orders on a position that two fetches say is closed, because order ' +
          'history shows no close. The exchange disagrees with itself. Search the worker logs for ' +
          '"kept" at error level, check that account on Bybit by hand, and close or cancel manually if the ' +
          'position really is gone. Nothing was cancelled.',
      }),
      capRefusals: alarm('CapRefusalsAlarm', sum5(Metric.CapRefusals), {
        threshold: 0,
        description:
          'The cancel cap refused cancellations: more orders looked orphaned in one window than the cap ' +
          'allows. Either a real mass close, or something is wrong upstream. Read the audit entries for the ' +
          'window before raising capPerAccount/capGlobal; the refused orders are still in place.',
      }),
      distrustedSnapshots: alarm('DistrustedSnapshotsAlarm', sum5(Metric.DistrustedSnapshots), {
        threshold: props.distrustedSnapshotsPer5Minutes ?? 2,
        description:
          'Position lists missing a large share of tracked positions were distrusted (self-preservation). ' +
          'Check Bybit status and the worker logs for the accounts involved; if users really closed ' +
          'everything, stopguard will believe it after repeated agreeing snapshots.',
      }),
      incompleteResponses: alarm('IncompleteResponsesAlarm', sum5(Metric.IncompleteResponsesObserved), {
        threshold: props.incompleteResponsesPer5Minutes ?? 20,
        description:
          'Bybit is returning incomplete position lists more often than usual (a position reported ' +
          'missing turned out open). stopguard does not act on them, but check Bybit status and expect ' +
          'more confirmations; raise the threshold if this is the new normal.',
      }),
      deadLetters: alarm(
        'DeadLettersAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        {
          threshold: 0,
          description:
            'Messages reached the dead-letter queue: malformed (the reason is in the worker log and the ' +
            'message attributes) or failed three times. Inspect them in the SQS console; redrive to the ' +
            'work queue once the cause is fixed.',
        },
      ),
      workerErrors: alarm('WorkerErrorsAlarm', this.worker.function.metricErrors({ period: FIVE_MINUTES }), {
        threshold: 0,
        description:
          'The worker function failed whole invocations (not single records). Read its log group for the ' +
          'error; until fixed, checks and confirmations are retried and then dead-lettered.',
      }),
      workerThrottles: alarm(
        'WorkerThrottlesAlarm',
        this.worker.function.metricThrottles({ period: FIVE_MINUTES }),
        {
          threshold: 0,
          description:
            'The worker was throttled: account concurrency is exhausted. Checks are delayed; look for ' +
            'other functions using up the account limit or request a higher limit.',
        },
      ),
      schedulerErrors: alarm(
        'SchedulerErrorsAlarm',
        this.scheduler.function.metricErrors({ period: FIVE_MINUTES }),
        {
          threshold: 0,
          description:
            'The scheduler failed: accounts may not be checked this minute. Read its log group (table ' +
            'access, an invalid account record, a queue error) and fix the cause.',
        },
      ),
      schedulerThrottles: alarm(
        'SchedulerThrottlesAlarm',
        this.scheduler.function.metricThrottles({ period: FIVE_MINUTES }),
        {
          threshold: 0,
          description:
            'The scheduler was throttled: account concurrency is exhausted and checks are not being ' +
            'scheduled. Free up or raise the account concurrency limit.',
        },
      ),
      staleSnapshots: alarm(
        'StaleSnapshotsAlarm',
        stopguardMetric(Metric.SnapshotAgeSeconds, 'Maximum', FIVE_MINUTES),
        {
          threshold: staleAfter.toSeconds({ integral: false }),
          description:
            `Some account has had no complete position snapshot for over ${staleAfter.toHumanString()}: ` +
            'its orders are not being reconciled. Look for ExchangeErrors by reason (bad ' +
            'credentials, rate limits, Bybit outage) in the dashboard and the worker log.',
        },
      ),
      noChecks: alarm('NoChecksAlarm', sum5(Metric.ChecksRun), {
        threshold: 1,
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data at all is the worst staleness: nothing is being checked.
        missing: TreatMissingData.BREACHING,
        description:
          'No account was checked in 5 minutes. Check the scheduler (EventBridge rule enabled, errors), ' +
          'the work queue backlog and the worker. Expected only while no account record is enabled.',
      }),
    };
  }

  private createDashboard(props: StopguardProps): Dashboard {
    const perMinute = (name: MetricName) => stopguardMetric(name, 'Sum', Duration.minutes(1));
    const staleAfter = props.staleAfter ?? Duration.minutes(10);
    const fns = [this.scheduler, this.worker];
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# stopguard\nShadow mode: **${this.settings.shadow ? 'on: nothing is cancelled' : 'off'}**. ` +
          'Alarm descriptions say what to do.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24, height: 4 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Decisions per minute',
        width: 12,
        left: [
          perMinute(Metric.SuspectsRaised),
          perMinute(Metric.CancelsExecuted),
          perMinute(Metric.ShadowCancelsSkipped),
          perMinute(Metric.KeptForLackOfEvidence),
          perMinute(Metric.IncompleteResponsesObserved),
          perMinute(Metric.CapRefusals),
          perMinute(Metric.CancelsFailed),
          perMinute(Metric.CancelsAbandoned),
        ],
        right: [perMinute(Metric.ChecksRun), perMinute(Metric.ConfirmsRun)],
      }),
      new GraphWidget({
        title: 'Snapshots per minute',
        width: 12,
        left: [
          perMinute(Metric.CompleteSnapshots),
          perMinute(Metric.UnknownSnapshots),
          perMinute(Metric.DistrustedSnapshots),
        ],
        right: [
          new MathExpression({
            // ExchangeErrors carries a `reason` dimension: one line per reason.
            expression: `SEARCH('{${METRICS_NAMESPACE},reason,service} MetricName="${Metric.ExchangeErrors}"', 'Sum', 60)`,
            label: 'ExchangeErrors',
            period: Duration.minutes(1),
          }),
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Oldest complete snapshot (s, max)',
        width: 8,
        left: [stopguardMetric(Metric.SnapshotAgeSeconds, 'Maximum', Duration.minutes(1))],
        leftAnnotations: [{ value: staleAfter.toSeconds({ integral: false }), label: 'stale alarm' }],
      }),
      new GraphWidget({
        title: 'Queues',
        width: 8,
        left: [
          this.queue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            label: 'work visible',
          }),
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            label: 'dead letters',
          }),
        ],
        right: [
          this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)' }),
        ],
      }),
      new GraphWidget({
        title: 'Functions',
        width: 8,
        left: fns.flatMap((f) => [
          f.function.metricErrors({ label: `${f.node.id} errors` }),
          f.function.metricThrottles({ label: `${f.node.id} throttles` }),
        ]),
        right: fns.map((f) => f.function.metricDuration({ statistic: 'p99', label: `${f.node.id} p99 ms` })),
      }),
    );
    return dashboard;
  }
}

/** A stopguard EMF metric. Powertools puts the `service` dimension on every metric it emits. */
function stopguardMetric(name: MetricName, statistic: string, period: Duration): CloudWatchMetric {
  return new CloudWatchMetric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period,
  });
}

/** Partition-key patterns for `dynamodb:LeadingKeys`: every key a request touches must match one. */
export function leadingKeysLike(patterns: readonly string[]): Record<string, unknown> {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...patterns] } };
}

/** Audit partitions are `AUDIT#<account>#<day>`: any account, any day. */
function auditPartitionPattern(): string {
  const sample = Keys.auditPartition('*', 0);
  return `${sample.slice(0, sample.lastIndexOf('#'))}#*`;
}

function resolveSettings(props: StopguardProps): ReconcileSettings {
  const named = {
    cadenceMs: props.cadence?.toMilliseconds(),
    confirmDelayMs: props.confirmDelay?.toMilliseconds(),
    capPerAccount: props.capPerAccount,
    capGlobal: props.capGlobal,
    capWindowMs: props.capWindow?.toMilliseconds(),
    claimLeaseMs: props.claimLease?.toMilliseconds(),
    shadow: props.shadow ?? true,
  };
  const defined = Object.fromEntries(Object.entries(named).filter(([, v]) => v !== undefined));
  // The functions' own validation, run at synth: a bad value fails `cdk synth`, not a cold start.
  return applyOverrides(defaultSettings, { ...props.settings, ...defined }, 'Stopguard props');
}

function settingsEnvironment(settings: ReconcileSettings): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(settings) as (keyof ReconcileSettings)[]).map((key) => [
      envName(key),
      String(settings[key]),
    ]),
  );
}
