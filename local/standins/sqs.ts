import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { StandInUnavailableError } from './stand-in-error.js';

export interface LocalSqs {
  /** `http://127.0.0.1:<port>`: give it to `localSqsClient`. */
  readonly endpoint: string;
  readonly port: number;
  /** Milliseconds until it listened. */
  readonly startMs: number;
  /** Closes the server (and every queue in it). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts fauxqs, an in-process SQS emulator, on a free port. It honours per-message DelaySeconds,
 * the visibility timeout and a RedrivePolicy's maxReceiveCount (tested in test/integration/sqs-*).
 * Like DynamoDB Local it listens on every interface; it has no bind-address option.
 */
export async function startSqs(options: { readonly port?: number } = {}): Promise<LocalSqs> {
  const startedAt = performance.now();
  let server: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    server = await startFauxqs({ port: options.port ?? 0, logger: false });
  } catch (cause) {
    throw new StandInUnavailableError('sqs', `fauxqs could not start: ${String(cause)}`, { cause });
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    port: server.port,
    startMs: Math.round(performance.now() - startedAt),
    stop: () => {
      stopping ??= server.stop();
      return stopping;
    },
  };
}

export interface QueuePair {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/**
 * Creates a work queue and its dead-letter queue through the SDK, the way the CDK stack wires them:
 * after `maxReceiveCount` receives without a delete, a message moves to the dead-letter queue.
 */
export async function createQueueWithDeadLetter(
  client: SQSClient,
  options: {
    readonly name: string;
    readonly visibilityTimeoutSeconds: number;
    readonly maxReceiveCount: number;
  },
): Promise<QueuePair> {
  const deadLetter = await createQueue(client, `${options.name}-dlq`, {});
  const main = await createQueue(client, options.name, {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetter.arn,
      maxReceiveCount: options.maxReceiveCount,
    }),
  });
  return {
    queueUrl: main.url,
    queueArn: main.arn,
    deadLetterQueueUrl: deadLetter.url,
    deadLetterQueueArn: deadLetter.arn,
  };
}

async function createQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const created = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl;
  if (url === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
  const described = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  const arn = described.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`GetQueueAttributes ${name} returned no QueueArn`);
  return { url, arn };
}
