import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
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
import { Grant, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RecursiveLoop } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { trustedExchangeOrigin } from '#adapters/bybit/hosts.js';
import { Keys, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '#adapters/dynamodb/table.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import {
  applyOverrides,
  defaultSettings,
  envName,
  type ReconcileSettings,
  type SettingsOverrides,
} from '#contracts/settings.js';
import { EnvVar } from '#handlers/environment.js';
import { Metric, type MetricName } from '#ports/telemetry.js';
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
  /**
   * Accounts' credentials are secrets under this name prefix; the worker can read no other. Must end
   * with '/' (a prefix `stopguard` would also cover `stopguard-other/…`). Default `stopguard/`.
   */
  readonly secretPrefix?: string;
  /**
   * Origins (`http://10.0.0.5:4010`) the worker may send an account's signed requests to besides Bybit's
   * own HTTPS hosts. For test stand-ins only (a Bybit simulator): a request carries the account's API
   * key and signature. Default none.
   */
  readonly extraExchangeOrigins?: readonly string[];
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
/** A registration is one read and two conditional writes; a batch of five fits many times over. */
const REGISTER_TIMEOUT = Duration.seconds(15);
/** Margin on the visibility timeout for clock differences between SQS and the worker. */
const VISIBILITY_MARGIN = Duration.seconds(10);
const FIVE_MINUTES = Duration.minutes(5);

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
    const secretPrefix = props.secretPrefix ?? 'stopguard/';
    // The functions refuse the same at cold start (environment.ts); IAM's `*` after it must not widen it.
    if (secretPrefix.length < 2 || !secretPrefix.endsWith('/') || /[*?]/.test(secretPrefix)) {
      throw new Error(
        `secretPrefix must be a literal prefix ending with '/' (e.g. "stopguard/"), got "${secretPrefix}"`,
      );
    }
    const extraExchangeOrigins = validOrigins(props.extraExchangeOrigins ?? []);
    const bybitBaseUrl = props.bybitBaseUrl ?? 'https://api.bybit.com';
    try {
      trustedExchangeOrigin(bybitBaseUrl, extraExchangeOrigins);
    } catch (error) {
      throw new Error(`bybitBaseUrl: ${(error as Error).message}`);
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

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');

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

    this.registerDeadLetterQueue = deadLetterQueue(this, 'RegisterDeadLetterQueue');
    this.registerQueue = new Queue(this, 'RegisterQueue', {
      // Six times the function timeout, as Lambda recommends for SQS sources: room for retries of a
      // throttled batch before a message becomes visible again.
      visibilityTimeout: Duration.seconds(REGISTER_TIMEOUT.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Rejected and malformed registrations are dead-lettered by the function itself, with a reason;
      // the redrive catches those that failed three times (table unavailable, a bug).
      deadLetterQueue: { queue: this.registerDeadLetterQueue, maxReceiveCount: 3 },
    });

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

    this.allowScheduling(this.scheduler);
    this.allowReconciling(this.worker, secretPrefix);
    this.allowRegistering(this.register);

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
    // Registrations are rare and cheap; two at once (the least SQS allows) keeps a flood from the bot
    // from competing with the worker for the account's concurrency.
    feedFromQueue(this.register, this.registerQueue, { batchSize: 5, maxConcurrency: 2 });

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'stopguard alarms',
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined && props.alarmEmail !== '') {
      const email = this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
      acknowledge(
        email,
        'Serverless-SNSRedrivePolicy',
        'An alarm e-mail SNS cannot deliver has nowhere better to go: a dead-letter queue for it would ' +
          'need an alarm of its own, on this same topic. CloudWatch keeps every alarm state and its history.',
      );
    }
    this.alarms = this.createAlarms(props);
    this.dashboard = this.createDashboard(props);
  }

  /**
   * Lets a producer (the bot's role) send `register` messages, and nothing else: `sqs:SendMessage` on
   * the register queue only. Never grant the work queue: what arrives there is acted on as
   * stopguard's own word. The queues use SQS-managed encryption, so no key grant is needed.
   */
  grantRegister(grantee: IGrantable): Grant {
    return Grant.addToPrincipalOrResource({
      grantee,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.registerQueue.queueArn],
      resource: this.registerQueue,
    });
  }

  /**
   * The register function validates a registration against the account record, adds the position to
   * the ledger (a conditional UpdateItem) and ends a suspect raised on an older state (a conditional
   * DeleteItem), and dead-letters what it refuses. It holds no secret, cannot enqueue work, and
   * cannot touch caps, schedule claims or the audit trail. IAM confines by partition only: within
   * `ACCOUNT#<id>` the code, not the policy, limits it to the position and suspect items.
   */
  private allowRegistering(fn: StopguardFunction): void {
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
        sid: 'RegisterPositions',
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [this.table.tableArn],
        conditions: leadingKeysLike([Keys.accountPartition('*')]),
      }),
    );
    fn.allow(
      new PolicyStatement({
        sid: 'DeadLetterRefusedRegistrations',
        actions: ['sqs:SendMessage'],
        resources: [this.registerDeadLetterQueue.queueArn],
      }),
    );
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
    const secrets = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
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
          // The claim renewal before a cancel: a transaction of a suspect Put and a ConditionCheck on
          // the tracked position, each item authorised as its own action.
          'dynamodb:ConditionCheckItem',
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
        // Append-only in effect: PutItem and nothing else, so the worker can neither read, list,
        // update nor delete an entry. An entry's key carries a random id and the worker cannot read or
        // list audit partitions, so it cannot aim a Put at an existing entry (short of one it has just
        // written itself); the adapter's attribute_not_exists condition refuses a collision.
        // ReturnValues is pinned to NONE so a Put cannot read back what it would replace either.
        sid: 'WriteAuditTrail',
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: {
          ...leadingKeysLike([auditPartitionPattern()]),
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
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
        resources: [secrets],
      }),
    );
    acknowledge(
      fn.role,
      `AwsSolutions-IAM5[Resource::${flatArn(Stack.of(this), secrets)}]`,
      "Secret ARNs end in a random six-character suffix, so a secret's ARN is only known with a '*' " +
        "after its name. The name part is a literal prefix ending in '/' (validated at synth), so the " +
        'wildcard covers the secrets under the prefix and nothing else, one action, read only.',
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
      registerDeadLetters: alarm(
        'RegisterDeadLettersAlarm',
        this.registerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
        }),
        {
          threshold: 0,
          description:
            "Registrations from the bot reached the register dead-letter queue. Read each message's " +
            '`reason` attribute: a registration stopguard refused (unknown or disabled account, a symbol ' +
            'outside its market, a fill time in the future) or could not parse, which is also what a ' +
            'forged one looks like. A message without a reason failed three times: read the register ' +
            "function's log. Fix the bot or the account record; the position is not tracked until then.",
        },
      ),
      authErrors: alarm('AuthErrorsAlarm', sum5(Metric.AuthErrors), {
        threshold: 0,
        description:
          "The exchange refused an account's keys (invalid, expired, IP allow-list, permissions): fix " +
          'its secret; nothing is being reconciled for that account. Search the worker log for ' +
          '"auth-error" to find the account; checks go on, so the alarm clears once its keys work.',
      }),
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
    const fns = [this.scheduler, this.worker, this.register];
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
          perMinute(Metric.AuthErrors),
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
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Registrations from the bot',
        width: 24,
        left: [
          this.registerQueue.metricNumberOfMessagesSent({
            statistic: 'Sum',
            period: Duration.minutes(1),
            label: 'sent by the bot',
          }),
          perMinute(Metric.RegistrationsRejected),
          this.registerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            statistic: 'Maximum',
            period: Duration.minutes(1),
            label: 'register dead letters',
          }),
        ],
        right: [
          this.registerQueue.metricApproximateAgeOfOldestMessage({
            statistic: 'Maximum',
            label: 'oldest (s)',
          }),
        ],
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

/**
 * Accepts a cdk-nag finding on `scope` and everything under it. Each call site says why; cdk-nag reads
 * these acknowledgments through CDK's own `Validations` metadata, so the construct needs no cdk-nag.
 */
function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** A dead-letter queue: kept 14 days, encrypted, TLS only. */
function deadLetterQueue(scope: Construct, id: string): Queue {
  const queue = new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  acknowledge(
    queue,
    'Serverless-SQSRedrivePolicy',
    'This is the end of the line: a dead-letter queue is read by a person (its alarm says so) and ' +
      'redriven by hand; a redrive policy on it would move dead letters out of sight.',
  );
  return queue;
}

/**
 * An SQS event source with partial batch responses: one failing record is retried alone, the rest of
 * its batch is not redelivered, and after three receives the queue's redrive policy parks it.
 */
function feedFromQueue(
  fn: StopguardFunction,
  queue: Queue,
  options: { batchSize: number; maxConcurrency: number },
): void {
  fn.function.addEventSource(new SqsEventSource(queue, { ...options, reportBatchItemFailures: true }));
  acknowledge(
    fn,
    'Serverless-LambdaEventSourceMappingDestination',
    'On-failure destinations exist for stream and Kafka event sources, not for SQS: a record that ' +
      "keeps failing goes to the source queue's dead-letter queue (redrive policy, alarmed).",
  );
  acknowledge(
    fn,
    'Serverless-LambdaDLQ',
    "A function's dead-letter target only receives failed asynchronous invocations; this one is " +
      "invoked synchronously by its SQS event source, whose queue's redrive policy is the dead-letter queue.",
  );
}

/** An ARN as cdk-nag spells it in a finding id: pseudo parameters as `<AWS::Region>` and so on. */
function flatArn(stack: Stack, arn: string): string {
  const resolved: unknown = stack.resolve(arn);
  if (typeof resolved === 'string') return resolved;
  const [delimiter, parts] = (resolved as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join(delimiter);
}

/** Exact http(s) origins, as `URL` writes them; anything else fails synth rather than a cold start. */
function validOrigins(origins: readonly string[]): string[] {
  return origins.map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`extraExchangeOrigins: "${origin}" is not a URL`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '')) {
      throw new Error(
        `extraExchangeOrigins: "${origin}" must be a bare http(s) origin like http://10.0.0.5:4010`,
      );
    }
    return url.origin;
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
