import { randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delaySecondsFor, QueueSendError, SqsWorkQueue } from '#adapters/sqs/sqs-queue.js';
import { type CheckMessage, type ConfirmMessage, parseWorkMessage } from '#contracts/messages.js';
import { localSqsClient } from '#local/standins/clients.js';
import { createQueueWithDeadLetter, type LocalSqs, startSqs } from '#local/standins/sqs.js';

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqs();
  client = localSqsClient(sqs.endpoint);
  console.info(`fauxqs listened after ${sqs.startMs} ms on ${sqs.endpoint}`);
});
afterAll(async () => {
  client?.destroy();
  await sqs?.stop();
});

/** A fresh queue pair per test. */
async function queues(visibilityTimeoutSeconds = 30, maxReceiveCount = 5) {
  return createQueueWithDeadLetter(client, {
    name: `stopguard-${randomUUID()}`,
    visibilityTimeoutSeconds,
    maxReceiveCount,
  });
}

async function receive(queueUrl: string, waitSeconds = 0): Promise<Message[]> {
  const result = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
  );
  return result.Messages ?? [];
}

/** Receives until `count` messages arrived or `timeoutMs` passed. */
async function receiveAll(queueUrl: string, count: number, timeoutMs = 5_000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await receive(queueUrl, 1)));
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const check = (i: number): CheckMessage => ({
  type: 'check',
  accountId: `acct-${i}`,
  slot: 176_722_560 + i,
});

const confirm: ConfirmMessage = {
  type: 'confirm',
  accountId: 'acct-1',
  symbol: 'BTCUSDT',
  positionIdx: 0,
  attempt: 1,
};

describe('SqsWorkQueue on fauxqs', () => {
  it('holds a delayed confirmation back until its delay has passed', async () => {
    const { queueUrl } = await queues();
    const queue = new SqsWorkQueue({ client, queueUrl });
    const sentAt = Date.now();
    await queue.sendConfirm(confirm, 1_200);

    expect(await receive(queueUrl)).toEqual([]);
    await sleep(800);
    expect(await receive(queueUrl)).toEqual([]);
    const [message] = await receiveAll(queueUrl, 1);
    // Rounded up to whole seconds: never early.
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2_000 - 50);
    expect(parseWorkMessage(message?.Body ?? '')).toEqual(confirm);
  });

  it('sends 25 checks in batches, each arriving once, intact', async () => {
    const { queueUrl } = await queues();
    const queue = new SqsWorkQueue({ client, queueUrl });
    const checks = Array.from({ length: 25 }, (_, i) => ({ message: check(i), delayMs: 0 }));
    await queue.sendChecks(checks);
    expect(queue.ops).toEqual({ requests: 3, messages: 25 });

    const received = await receiveAll(queueUrl, 25);
    const bodies = received.map((m) => parseWorkMessage(m.Body ?? ''));
    expect(bodies).toHaveLength(25);
    expect(new Set(bodies.map((b) => (b.type === 'check' ? b.slot : -1)))).toEqual(
      new Set(checks.map((c) => c.message.slot)),
    );
    expect(bodies).toContainEqual(check(17));
  });

  it('gives each check in a batch its own delay', async () => {
    const { queueUrl } = await queues();
    const queue = new SqsWorkQueue({ client, queueUrl });
    await queue.sendChecks(
      Array.from({ length: 12 }, (_, i) => ({ message: check(i), delayMs: i % 2 === 0 ? 0 : 30_000 })),
    );
    const now = await receiveAll(queueUrl, 6, 1_500);
    expect(now.map((m) => parseWorkMessage(m.Body ?? '').accountId).sort()).toEqual([
      'acct-0',
      'acct-10',
      'acct-2',
      'acct-4',
      'acct-6',
      'acct-8',
    ]);
    const attributes = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('6');
  });

  it('hides a received message for the visibility timeout, then moves it to the DLQ after maxReceiveCount', async () => {
    const { queueUrl, deadLetterQueueUrl } = await queues(1, 2);
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(confirm) }));

    // Two receives that never delete: the worker failed twice.
    expect(await receive(queueUrl)).toHaveLength(1);
    expect(await receive(queueUrl)).toEqual([]);
    expect(await receiveAll(queueUrl, 1, 3_000)).toHaveLength(1);
    await sleep(1_100);
    // The third receive finds it over maxReceiveCount: it goes to the dead-letter queue instead.
    expect(await receive(queueUrl)).toEqual([]);
    const dead = await receiveAll(deadLetterQueueUrl, 1, 2_000);
    expect(dead).toHaveLength(1);
    expect(parseWorkMessage(dead[0]?.Body ?? '')).toEqual(confirm);
  });
});

describe('SqsWorkQueue against a stubbed client', () => {
  /** Records SendMessageBatch inputs; refuses the entries whose Id is listed. */
  function stubClient(refuse: (batchNumber: number, id: string) => boolean) {
    const batches: NonNullable<SendMessageBatchCommand['input']['Entries']>[] = [];
    const stub = {
      send: async (command: SendMessageBatchCommand) => {
        const entries = command.input.Entries ?? [];
        const batchNumber = batches.push(entries) - 1;
        const failed = entries.filter((e) => refuse(batchNumber, e.Id ?? ''));
        return {
          Successful: entries.filter((e) => !failed.includes(e)).map((e) => ({ Id: e.Id })),
          Failed: failed.map((e) => ({
            Id: e.Id,
            Code: 'InternalError',
            Message: 'try again',
            SenderFault: false,
          })),
        };
      },
    } as unknown as SQSClient;
    return { stub, batches };
  }

  it('sends batches of at most ten with per-entry DelaySeconds rounded up and capped', async () => {
    const { stub, batches } = stubClient(() => false);
    const queue = new SqsWorkQueue({ client: stub, queueUrl: 'http://queue' });
    const delays = [
      0, 1, 999, 1_000, 1_001, 59_500, 900_000, 2_000_000, -5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    await queue.sendChecks(delays.map((delayMs, i) => ({ message: check(i), delayMs })));
    expect(batches.map((b) => b.length)).toEqual([10, 10, 1]);
    expect(batches[0]?.slice(0, 9).map((e) => e.DelaySeconds)).toEqual([0, 1, 1, 1, 2, 60, 900, 900, 0]);
    expect(JSON.parse(batches[0]?.[3]?.MessageBody ?? '')).toEqual(check(3));
  });

  it('throws a QueueSendError naming every refused check after trying all batches', async () => {
    const { stub, batches } = stubClient(
      (batch, id) => (batch === 0 && id === '3') || (batch === 2 && id === '0'),
    );
    const queue = new SqsWorkQueue({ client: stub, queueUrl: 'http://queue' });
    const sent = queue.sendChecks(Array.from({ length: 21 }, (_, i) => ({ message: check(i), delayMs: 0 })));
    await expect(sent).rejects.toThrow(QueueSendError);
    await expect(sent).rejects.toThrow(
      /refused 2 of 21 check messages: .*acct-3 slot 176722563.*InternalError/,
    );
    await expect(sent).rejects.toThrow(/acct-20 slot 176722580/);
    expect(batches).toHaveLength(3);
  });

  it('sends nothing for no checks', async () => {
    const { stub, batches } = stubClient(() => false);
    await new SqsWorkQueue({ client: stub, queueUrl: 'http://queue' }).sendChecks([]);
    expect(batches).toEqual([]);
  });

  it('rounds delays up and caps them at 900 s', () => {
    expect([0, 1, 1_000, 1_001, 900_000, 900_001, Number.NaN, -1].map(delaySecondsFor)).toEqual([
      0, 1, 1, 2, 900, 900, 0, 0,
    ]);
  });
});
