import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SNSClient } from '@aws-sdk/client-sns';
import { LogsInsightsSearch } from '#adapters/cloudwatch/logs-insights-search.js';
import { SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import { SnsNotifier } from '#adapters/sns/sns-notifier.js';
import { createAlarmNotifierHandler } from './alarm-notifier-handler.js';
import { EnvVar } from './environment.js';

const logger = new Logger({ serviceName: SERVICE_NAME });

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

/** The alarm notifier Lambda's entry point: no table, no queue, no key; the worker's log and the alarm topic. */
export const handler = createAlarmNotifierHandler(
  async () => ({
    logs: new LogsInsightsSearch(new CloudWatchLogsClient({}), required(EnvVar.workerLogGroup)),
    notifier: new SnsNotifier(new SNSClient({}), required(EnvVar.alarmTopicArn)),
  }),
  logger,
);
