import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetters } from '#ports/dead-letter.js';

/** SQS caps a message attribute value at 256 KB; a reason is a line of text, kept short for the console. */
const MAX_REASON_LENGTH = 1_000;

/**
 * The dead-letter queue on SQS. The original body goes unchanged (so it can be inspected and
 * re-driven once fixed); the reason travels as the `reason` message attribute.
 */
export class SqsDeadLetters implements DeadLetters {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(body: string, reason: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        // SQS refuses an empty body; an empty message is still worth keeping with its reason.
        MessageBody: body.length > 0 ? body : '(empty body)',
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_LENGTH) },
        },
      }),
    );
  }
}
