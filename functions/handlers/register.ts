import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { METRICS_NAMESPACE, PowertoolsTelemetry, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import { readEnvironment } from './environment.js';
import { createRegisterHandler } from './register-handler.js';
import { wireRegister } from './register-wiring.js';

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/**
 * The register Lambda's entry point (the bot's ingress queue). It holds no exchange credentials and
 * cannot enqueue work: a registration can only add a position to the ledger.
 */
export const handler = createRegisterHandler(
  async () =>
    wireRegister({
      environment: readEnvironment(process.env),
      dynamoDb: new DynamoDBClient({}),
      sqs: new SQSClient({}),
      telemetry: new PowertoolsTelemetry(logger, metrics),
    }),
  logger,
  metrics,
);
