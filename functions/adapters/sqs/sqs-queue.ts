import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CheckMessage, ConfirmMessage } from '#contracts/messages.js';
import type { WorkQueue } from '#ports/queue.js';

/** SQS's longest per-message delay. */
export const MAX_DELAY_SECONDS = 900;
/** SendMessageBatch's most entries per request. */
const BATCH_MAX = 10;
/** Batches in flight at once: enough to fan a minute out quickly, few enough not to burst. */
const BATCH_CONCURRENCY = 4;

export interface SqsWorkQueueOptions {
  /** A plain client; the SDK's default (standard) retry mode handles throttling and 5xx. */
  readonly client: SQSClient;
  readonly queueUrl: string;
}

/** Some messages were not accepted by SQS. The sender should fail so its invocation is retried. */
export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';
  constructor(
    message: string,
    readonly failed: readonly { readonly id: string; readonly code: string; readonly detail: string }[],
  ) {
    super(message);
  }
}

/** Seconds of delay SQS is asked for: rounded up (never early), capped at SQS's 15 minutes. */
export function delaySecondsFor(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs <= 0) return 0;
  return Math.min(MAX_DELAY_SECONDS, Math.ceil(delayMs / 1000));
}

/**
 * The work queue on SQS. Bodies are the messages' JSON, which the worker parses with
 * `parseWorkMessage`. Delays beyond 15 minutes are capped: a confirmation that comes early is only
 * another look, never an action on its own (the core decides on evidence, not on timing).
 */
export class SqsWorkQueue implements WorkQueue {
  /** SQS requests sent, for cost figures. */
  readonly ops = { requests: 0, messages: 0 };
  private readonly client: SQSClient;
  private readonly queueUrl: string;

  constructor(options: SqsWorkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
  }

  /**
   * Sends every check, ten per SendMessageBatch. Throws `QueueSendError` naming each entry SQS
   * refused (after all batches were tried), so the scheduler invocation fails and is retried.
   */
  async sendChecks(
    checks: readonly { readonly message: CheckMessage; readonly delayMs: number }[],
  ): Promise<void> {
    const batches: (typeof checks)[] = [];
    for (let i = 0; i < checks.length; i += BATCH_MAX) batches.push(checks.slice(i, i + BATCH_MAX));
    const failed: { id: string; code: string; detail: string }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        const batch = batches[index];
        if (batch === undefined) return;
        failed.push(...(await this.sendBatch(batch, index)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, batches.length) }, worker));
    if (failed.length > 0) {
      const listed = failed.map((f) => `${f.id} (${f.code}: ${f.detail})`).join('; ');
      throw new QueueSendError(
        `SQS refused ${failed.length} of ${checks.length} check messages: ${listed}`,
        failed,
      );
    }
  }

  async sendConfirm(message: ConfirmMessage, delayMs: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: delaySecondsFor(delayMs),
      }),
    );
    this.ops.requests++;
    this.ops.messages++;
  }

  private async sendBatch(
    batch: readonly { readonly message: CheckMessage; readonly delayMs: number }[],
    batchIndex: number,
  ): Promise<{ id: string; code: string; detail: string }[]> {
    const result = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((check, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(check.message),
          DelaySeconds: delaySecondsFor(check.delayMs),
        })),
      }),
    );
    this.ops.requests++;
    const failures = result.Failed ?? [];
    this.ops.messages += batch.length - failures.length;
    return failures.map((f: BatchResultErrorEntry) => {
      const check = batch[Number(f.Id)]?.message;
      const what = check === undefined ? `entry ${f.Id}` : `check ${check.accountId} slot ${check.slot}`;
      return {
        id: `${what} (batch ${batchIndex})`,
        code: f.Code ?? 'unknown',
        detail: `${f.Message ?? 'no message'}${f.SenderFault ? ', sender fault' : ''}`,
      };
    });
  }
}
