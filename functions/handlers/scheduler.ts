import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { METRICS_NAMESPACE, PowertoolsTelemetry, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import { readEnvironment } from './environment.js';
import { createSchedulerHandler } from './scheduler-handler.js';
import { wireScheduler } from './scheduler-wiring.js';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/** The scheduler Lambda's entry point (EventBridge, every minute). No Secrets Manager client: it holds no keys. */
export const handler = createSchedulerHandler(
  async () =>
    wireScheduler({
      environment: readEnvironment(process.env),
      dynamoDb: new DynamoDBClient({}),
      sqs: new SQSClient({}),
      telemetry: new PowertoolsTelemetry(logger, metrics),
    }),
  logger,
  metrics,
);
