import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * Plays Lambda's SQS event source mapping locally: long-polls the queue, hands batches of up to
 * `batchSize` records to the handler, deletes the records it did not report as failed, and leaves the failed ones
 * to reappear after the visibility timeout (so the queue's redrive policy applies, as on AWS).
 */
export class SqsEventSource {
  private running = false;
  private loop: Promise<void> | undefined;
  batches = 0;
  records = 0;
  failures = 0;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly handler: SqsBatchHandler,
    private readonly concurrency = 2,
    /** Records per invocation at most (the event source mapping's batch size). */
    private readonly batchSize = 10,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = Promise.all(Array.from({ length: this.concurrency }, () => this.poll())).then(
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async poll(): Promise<void> {
    while (this.running) {
      const received = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: this.batchSize,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) continue;
      await this.deliver(messages);
    }
  }

  private async deliver(messages: readonly Message[]): Promise<void> {
    const records = messages.map((m) => this.toRecord(m));
    this.batches++;
    this.records += records.length;
    let failedIds: Set<string>;
    try {
      const response = await this.handler({ Records: records });
      failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch {
      // The whole invocation failed (Lambda would retry the whole batch): delete nothing.
      failedIds = new Set(records.map((r) => r.messageId));
    }
    this.failures += failedIds.size;
    const done = messages.filter((m) => m.MessageId !== undefined && !failedIds.has(m.MessageId));
    if (done.length === 0) return;
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }

  private toRecord(message: Message): SQSRecord {
    const attributes = message.Attributes ?? {};
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn,
      awsRegion: 'us-east-1',
    };
  }
}
