import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CheckMessage, ConfirmMessage, ScheduleShardMessage } from '#contracts/messages.js';
import type { WorkQueue } from '#ports/queue.js';
import type { ShardMinute, ShardQueue } from '#ports/schedule.js';

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
  sendChecks(checks: readonly { readonly message: CheckMessage; readonly delayMs: number }[]): Promise<void> {
    return sendInBatches(
      { client: this.client, queueUrl: this.queueUrl, ops: this.ops, what: 'check' },
      checks.map((c) => ({
        body: JSON.stringify(c.message),
        delayMs: c.delayMs,
        label: `check ${c.message.accountId} slot ${c.message.slot}`,
      })),
    );
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
}

/** The scheduler's own queue: the fan-out's shard-minutes, consumed by the shard runs. */
export class SqsShardQueue implements ShardQueue {
  readonly ops = { requests: 0, messages: 0 };
  private readonly client: SQSClient;
  private readonly queueUrl: string;

  constructor(options: SqsWorkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
  }

  /** Throws `QueueSendError` naming each shard SQS refused, so the fan-out fails and is retried. */
  sendShards(shards: readonly ShardMinute[]): Promise<void> {
    return sendInBatches(
      { client: this.client, queueUrl: this.queueUrl, ops: this.ops, what: 'shard' },
      shards.map((s) => ({
        body: JSON.stringify({ type: 'schedule-shard', ...s } satisfies ScheduleShardMessage),
        delayMs: 0,
        label: `shard ${s.shard}/${s.shards} of minute ${s.minute}`,
      })),
    );
  }
}

interface Outgoing {
  readonly body: string;
  readonly delayMs: number;
  /** Names the entry in a `QueueSendError`. */
  readonly label: string;
}

/** Sends every entry, ten per SendMessageBatch, a few batches at once; throws after all were tried. */
async function sendInBatches(
  to: { client: SQSClient; queueUrl: string; ops: { requests: number; messages: number }; what: string },
  entries: readonly Outgoing[],
): Promise<void> {
  const batches: Outgoing[][] = [];
  for (let i = 0; i < entries.length; i += BATCH_MAX) batches.push(entries.slice(i, i + BATCH_MAX));
  const failed: { id: string; code: string; detail: string }[] = [];
  let next = 0;
  const sender = async () => {
    while (next < batches.length) {
      const index = next++;
      const batch = batches[index];
      if (batch === undefined) return;
      const result = await to.client.send(
        new SendMessageBatchCommand({
          QueueUrl: to.queueUrl,
          Entries: batch.map((entry, i) => ({
            Id: String(i),
            MessageBody: entry.body,
            DelaySeconds: delaySecondsFor(entry.delayMs),
          })),
        }),
      );
      to.ops.requests++;
      const failures = result.Failed ?? [];
      to.ops.messages += batch.length - failures.length;
      for (const f of failures as BatchResultErrorEntry[]) {
        failed.push({
          id: `${batch[Number(f.Id)]?.label ?? `entry ${f.Id}`} (batch ${index})`,
          code: f.Code ?? 'unknown',
          detail: `${f.Message ?? 'no message'}${f.SenderFault ? ', sender fault' : ''}`,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, batches.length) }, sender));
  if (failed.length > 0) {
    const listed = failed.map((f) => `${f.id} (${f.code}: ${f.detail})`).join('; ');
    throw new QueueSendError(
      `SQS refused ${failed.length} of ${entries.length} ${to.what} messages: ${listed}`,
      failed,
    );
  }
}
