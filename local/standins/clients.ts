import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * SDK clients pointed at a local stand-in. The stand-ins accept any credentials; fixed dummy ones keep
 * the SDK from looking for real ones (environment, ~/.aws, instance metadata) and stop a local run
 * from ever reaching a real account. DynamoDB Local keeps a separate database per access key and
 * region, so every client of one run must use these same values.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A DynamoDB client for a DynamoDB Local endpoint such as `http://127.0.0.1:8000`. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** An SQS client for a fauxqs endpoint. */
export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}
