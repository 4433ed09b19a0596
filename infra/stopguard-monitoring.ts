/**
 * Stopguard's monitoring: one SNS topic, an alarm per condition a person must act on (each alarm's
 * description says what to do), and a dashboard. Everything is created in the scope it is given (the
 * Stopguard construct), so the logical ids are the construct's own: a new id for the topic would replace
 * it and drop its e-mail subscriptions.
 */
import { Duration } from 'aws-cdk-lib';
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
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import { Metric, type MetricName } from '#ports/telemetry.js';
import { acknowledge } from './acknowledge.js';
import type { StopguardFunction } from './stopguard-function.js';
import type { StopguardProps } from './stopguard-props.js';
import { addNamingQueries, STUCK_QUERY_NAME, UNPROTECTED_QUERY_NAME } from './stopguard-queries.js';

const FIVE_MINUTES = Duration.minutes(5);

/** What stopguard's monitoring watches. */
export interface MonitoredResources {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly registerQueue: Queue;
  readonly registerDeadLetterQueue: Queue;
  readonly scheduleDeadLetterQueue: Queue;
  readonly scheduler: StopguardFunction;
  readonly worker: StopguardFunction;
  readonly register: StopguardFunction;
}

/** The props that set thresholds and subscriptions, and whether the functions run in shadow mode. */
export type MonitoringOptions = Pick<
  StopguardProps,
  'alarmEmail' | 'staleAfter' | 'incompleteResponsesPer5Minutes' | 'distrustedSnapshotsPer5Minutes'
> & { readonly shadow: boolean };

export interface StopguardMonitoring {
  /** Every alarm notifies this topic, both on alarm and on returning to OK. */
  readonly alarmTopic: Topic;
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;
}

/**
 * Creates the alarm topic (`AlarmTopic`, with `alarmEmail` subscribed when given), the alarms (ids
 * ending in `Alarm`) and the dashboard (`Dashboard`) in `scope`.
 */
export function addMonitoring(
  scope: Construct,
  watched: MonitoredResources,
  options: MonitoringOptions,
): StopguardMonitoring {
  const alarmTopic = new Topic(scope, 'AlarmTopic', {
    displayName: 'stopguard alarms',
    enforceSSL: true,
  });
  if (options.alarmEmail !== undefined && options.alarmEmail !== '') {
    const email = alarmTopic.addSubscription(new EmailSubscription(options.alarmEmail));
    acknowledge(
      email,
      'Serverless-SNSRedrivePolicy',
      'An alarm e-mail SNS cannot deliver has nowhere better to go: a dead-letter queue for it would ' +
        'need an alarm of its own, on this same topic. CloudWatch keeps every alarm state and its history.',
    );
  }
  const alarms = createAlarms(scope, alarmTopic, watched, options);
  const dashboard = createDashboard(scope, alarms, watched, options);
  addNamingQueries(scope, watched.worker.logGroup, dashboard);
  return { alarmTopic, alarms, dashboard };
}

function createAlarms(
  scope: Construct,
  topic: Topic,
  watched: MonitoredResources,
  options: MonitoringOptions,
): Record<string, Alarm> {
  const action = new SnsAction(topic);
  const alarm = (
    id: string,
    metric: IMetric,
    alarmOptions: {
      threshold: number;
      comparison?: ComparisonOperator;
      missing?: TreatMissingData;
      description: string;
    },
  ): Alarm => {
    const created = new Alarm(scope, id, {
      metric,
      threshold: alarmOptions.threshold,
      evaluationPeriods: 1,
      comparisonOperator: alarmOptions.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No data points for a decision count means no such decision happened.
      treatMissingData: alarmOptions.missing ?? TreatMissingData.NOT_BREACHING,
      alarmDescription: alarmOptions.description,
    });
    created.addAlarmAction(action);
    created.addOkAction(action);
    return created;
  };
  const staleAfter = options.staleAfter ?? Duration.minutes(10);
  const sum5 = (name: MetricName) => stopguardMetric(name, 'Sum', FIVE_MINUTES);
  const anyIn = (queue: Queue) =>
    queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) });
  const { worker, scheduler } = watched;

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
      threshold: options.distrustedSnapshotsPer5Minutes ?? 2,
      description:
        'Position lists missing a large share of tracked positions were distrusted (self-preservation). ' +
        'Check Bybit status and the worker logs for the accounts involved; if users really closed ' +
        'everything, stopguard will believe it after repeated agreeing snapshots.',
    }),
    incompleteResponses: alarm('IncompleteResponsesAlarm', sum5(Metric.IncompleteResponsesObserved), {
      threshold: options.incompleteResponsesPer5Minutes ?? 20,
      description:
        'Bybit is returning incomplete position lists more often than usual (a position reported ' +
        'missing turned out open). stopguard does not act on them, but check Bybit status and expect ' +
        'more confirmations; raise the threshold if this is the new normal.',
    }),
    deadLetters: alarm('DeadLettersAlarm', anyIn(watched.deadLetterQueue), {
      threshold: 0,
      description:
        'Messages reached the dead-letter queue: malformed (the reason is in the worker log and the ' +
        'message attributes) or failed three times. Inspect them in the SQS console; redrive to the ' +
        'work queue once the cause is fixed.',
    }),
    scheduleShardsLost: alarm('ScheduleShardsLostAlarm', sum5(Metric.ScheduleShardsLost), {
      threshold: 0,
      description:
        "A shard of the scheduler's minute was not finished (its run timed out, died, or its message " +
        'was dead-lettered): its accounts may have gone unchecked for up to a minute. The scheduler log ' +
        'names the minute and shard. If it recurs, the shards are too large for the timeout: raise ' +
        'scheduleShards. Dead-lettered shard-minutes are past: delete them, do not redrive.',
    }),
    scheduleDeadLetters: alarm('ScheduleDeadLettersAlarm', anyIn(watched.scheduleDeadLetterQueue), {
      threshold: 0,
      description:
        "Shard-minutes reached the scheduler's dead-letter queue: malformed (a `reason` attribute) or " +
        'failed three times (the scheduler log says why). Their minute is past: read, fix, then delete.',
    }),
    registerDeadLetters: alarm('RegisterDeadLettersAlarm', anyIn(watched.registerDeadLetterQueue), {
      threshold: 0,
      description:
        "Registrations from the bot reached the register dead-letter queue. Read each message's " +
        '`reason` attribute: a registration stopguard refused (unknown or disabled account, a symbol ' +
        'outside its market, a fill time in the future) or could not parse, which is also what a ' +
        'forged one looks like. A message without a reason failed three times: read the register ' +
        "function's log. Fix the bot or the account record; the position is not tracked until then.",
    }),
    authErrors: alarm('AuthErrorsAlarm', sum5(Metric.AuthErrors), {
      threshold: 0,
      description:
        "The exchange refused an account's keys (invalid, expired, IP allow-list, permissions): fix " +
        'its secret; nothing is being reconciled for that account. Search the worker log for ' +
        '"auth-error" to find the account; checks go on, so the alarm clears once its keys work.',
    }),
    unprotectedPositions: alarm(
      'UnprotectedPositionsAlarm',
      stopguardMetric(Metric.UnprotectedPositions, 'Maximum', FIVE_MINUTES),
      {
        threshold: 0,
        description:
          'A live position has had no stop-loss covering all of it for longer than the grace (default ' +
          '30 s), in 2 complete looks: it is exposed. The saved Logs Insights query ' +
          `"${UNPROTECTED_QUERY_NAME}" lists each one (account, symbol, size, since when, covered share); ` +
          'so does the worker log, filtered on decision "unprotected" or "underprotected". Place its stop, ' +
          'close it, or have the bot register it with noStopIntended if it has none by design. The alarm ' +
          'clears once no check finds one; each recovery is audited as "protection-restored".',
      },
    ),
    suspectsStuck: alarm('SuspectsStuckAlarm', sum5(Metric.SuspectsStuck), {
      threshold: 0,
      description:
        'A suspect stayed undecided past its bound (30 attempts or an hour): the position is gone from ' +
        'every list but no close shows in its history, or its looks keep failing. Its orders are kept ' +
        `and it is looked at every 15 minutes. The saved Logs Insights query "${STUCK_QUERY_NAME}" names ` +
        'each one (account, symbol, the last decision); check the position on the exchange, then let ' +
        'it be, or forget it once the orders are dealt with by hand.',
    }),
    ipBans: alarm('IpBansAlarm', sum5(Metric.IpBans), {
      threshold: 0,
      description:
        "The exchange banned the fleet's address (HTTP 403, Bybit's per-IP limit): every account's " +
        'checks and confirmations pause until the ban ends (at least 10 minutes, in the worker log). ' +
        'Nothing is cancelled meanwhile; cleanup resumes after. If it recurs, set or lower ' +
        'fleetRequestsPer5s (at most 5/6 of the limit), or give the workers more addresses.',
    }),
    workerErrors: alarm('WorkerErrorsAlarm', worker.function.metricErrors({ period: FIVE_MINUTES }), {
      threshold: 0,
      description:
        'The worker function failed whole invocations (not single records). Read its log group for the ' +
        'error; until fixed, checks and confirmations are retried and then dead-lettered.',
    }),
    workerThrottles: alarm(
      'WorkerThrottlesAlarm',
      worker.function.metricThrottles({ period: FIVE_MINUTES }),
      {
        threshold: 0,
        description:
          'The worker was throttled: account concurrency is exhausted. Checks are delayed; look for ' +
          'other functions using up the account limit or request a higher limit.',
      },
    ),
    schedulerErrors: alarm(
      'SchedulerErrorsAlarm',
      scheduler.function.metricErrors({ period: FIVE_MINUTES }),
      {
        threshold: 0,
        description:
          'The scheduler failed: accounts may not be checked this minute. Read its log group (table ' +
          'access, an invalid account record, a queue error) and fix the cause.',
      },
    ),
    schedulerThrottles: alarm(
      'SchedulerThrottlesAlarm',
      scheduler.function.metricThrottles({ period: FIVE_MINUTES }),
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

function createDashboard(
  scope: Construct,
  alarms: Readonly<Record<string, Alarm>>,
  watched: MonitoredResources,
  options: MonitoringOptions,
): Dashboard {
  const perMinute = (name: MetricName) => stopguardMetric(name, 'Sum', Duration.minutes(1));
  const staleAfter = options.staleAfter ?? Duration.minutes(10);
  const { queue, deadLetterQueue, registerQueue, registerDeadLetterQueue } = watched;
  const fns = [watched.scheduler, watched.worker, watched.register];
  const dashboard = new Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(3) });
  dashboard.addWidgets(
    new TextWidget({
      markdown:
        `# stopguard\nShadow mode: **${options.shadow ? 'on: nothing is cancelled' : 'off'}**. ` +
        'Alarm descriptions say what to do.',
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(alarms), width: 24, height: 4 }),
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
        perMinute(Metric.StopsPlaced),
        perMinute(Metric.SuspectsStuck),
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
        perMinute(Metric.IpBans),
        perMinute(Metric.FleetDeferrals),
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
      title: 'Unprotected positions (max per check) and audit listings',
      width: 24,
      left: [stopguardMetric(Metric.UnprotectedPositions, 'Maximum', Duration.minutes(1))],
      right: [perMinute(Metric.ProtectionOrderListings)],
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
        queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'work visible' }),
        deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          label: 'dead letters',
        }),
      ],
      right: [queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)' })],
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
        registerQueue.metricNumberOfMessagesSent({
          statistic: 'Sum',
          period: Duration.minutes(1),
          label: 'sent by the bot',
        }),
        perMinute(Metric.RegistrationsRejected),
        registerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: Duration.minutes(1),
          label: 'register dead letters',
        }),
      ],
      right: [
        registerQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)' }),
      ],
    }),
  );
  return dashboard;
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
