import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CachedCredentials } from '#adapters/credentials/cached-credentials.js';
import { SecretsManagerCredentials } from '#adapters/credentials/secrets-manager-credentials.js';
import { METRICS_NAMESPACE, PowertoolsTelemetry, SERVICE_NAME } from '#adapters/powertools/telemetry.js';
import { readEnvironment } from './environment.js';
import { createWorkerHandler } from './worker-handler.js';
import { wireWorker } from './worker-wiring.js';

/**
 * How long a container keeps an account's keys before asking Secrets Manager again. A rotation is
 * picked up sooner: the exchange refusing the old key makes the next check read the secret afresh.
 */
const CREDENTIALS_TTL_MS = 60 * 60_000;

const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

/**
 * The worker Lambda's entry point (SQS event source). Clients are built once per container, on the
 * first invocation; the SDKs' default (standard) retry mode handles throttling and 5xx.
 */
export const handler = createWorkerHandler(
  async () =>
    wireWorker({
      environment: readEnvironment(process.env),
      dynamoDb: new DynamoDBClient({}),
      sqs: new SQSClient({}),
      credentials: new CachedCredentials(
        new SecretsManagerCredentials(new SecretsManagerClient({})),
        CREDENTIALS_TTL_MS,
      ),
      telemetry: new PowertoolsTelemetry(logger, metrics),
    }),
  logger,
  metrics,
);
