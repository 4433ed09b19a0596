/**
 * The alarm notifier: when an alarm that names positions goes into ALARM (unprotected positions, stuck
 * suspects, orders kept for lack of evidence, a spent cap), an EventBridge rule runs a small function
 * that looks up the decisions behind it in the worker's log (Logs Insights) and sends them, each with
 * its `npx stopguard explain` command, to the alarm topic. No metric dimension per account is billed.
 */
import { Duration } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { EnvVar } from '#handlers/environment.js';
import { acknowledge } from './acknowledge.js';
import { StopguardFunction } from './stopguard-function.js';

export function addAlarmNotifier(
  scope: Construct,
  on: {
    readonly alarms: readonly Alarm[];
    readonly topic: Topic;
    readonly workerLogs: LogGroup;
    readonly logRetention: RetentionDays;
  },
): StopguardFunction {
  const notifier = new StopguardFunction(scope, 'AlarmNotifier', {
    entry: 'functions/handlers/alarm-notifier.ts',
    description: 'Sends the accounts and positions behind an alarm to the alarm topic',
    // A Logs Insights query over half an hour of the worker log, polled until it completes.
    timeout: Duration.seconds(60),
    memorySize: 256,
    environment: {
      [EnvVar.workerLogGroup]: on.workerLogs.logGroupName,
      [EnvVar.alarmTopicArn]: on.topic.topicArn,
    },
    logRetention: on.logRetention,
  });
  const rule = new Rule(scope, 'AlarmNotifierRule', {
    description: 'A stopguard alarm that names positions changed state',
    eventPattern: {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      resources: on.alarms.map((a) => a.alarmArn),
    },
    targets: [new LambdaFunction(notifier.function, { retryAttempts: 2 })],
  });
  const lostNotice =
    'A notice this function fails to send (after EventBridge retries it twice) loses nothing: the ' +
    "alarm's own notification has gone to the same topic, and the dashboard and the saved queries " +
    'show the same names. A dead-letter queue for it would need an alarm of its own, on this topic.';
  acknowledge(rule, 'Serverless-EventBusDLQ', lostNotice);
  acknowledge(notifier, 'Serverless-LambdaDLQ', lostNotice);
  notifier.allow(
    new PolicyStatement({
      sid: 'QueryWorkerLog',
      actions: ['logs:StartQuery'],
      resources: [on.workerLogs.logGroupArn],
    }),
  );
  notifier.allow(
    new PolicyStatement({
      sid: 'ReadQueryResults',
      actions: ['logs:GetQueryResults'],
      resources: ['*'],
    }),
  );
  on.topic.grantPublish(notifier.role);
  acknowledge(
    notifier.role,
    'AwsSolutions-IAM5[Resource::*]',
    'logs:GetQueryResults takes no resource: IAM authorises it on "*" only. It reads the results of a ' +
      'query by id, and the only queries this role may start are on the worker log group.',
  );
  return notifier;
}
