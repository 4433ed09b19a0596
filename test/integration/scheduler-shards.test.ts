import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerRig } from '#local/pipeline/scheduler-rig.js';
import { type LocalSqs, startSqs } from '#local/standins/sqs.js';
import { useDynamoDbLocal } from '#test/support/dynamodb.js';

const dynamo = useDynamoDbLocal();
let sqs: LocalSqs;
let rig: SchedulerRig;
const ACCOUNTS = 300;
const SHARDS = 4;

beforeAll(async () => {
  sqs = await startSqs();
  rig = await SchedulerRig.start({
    dynamoEndpoint: dynamo.endpoint(),
    sqsEndpoint: sqs.endpoint,
    shards: SHARDS,
    concurrency: 2,
  });
  await rig.seed(ACCOUNTS);
});
afterAll(async () => {
  await rig?.stop();
  await sqs?.stop();
});

describe('the sharded scheduler on DynamoDB Local and the SQS stand-in', () => {
  it('schedules every account of every shard through its own queue, with a few writes per shard', async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // First run: the rest of this minute and the next.
    const first = await rig.minute(minute + 1_000);
    expect(first.fanOut.shardsSent).toBe(2 * SHARDS);
    expect(first.accountsScheduled).toBe(2 * ACCOUNTS);

    const steady = await rig.minute(minute + 60_000 + 1_000);
    expect(steady.fanOut).toEqual({ shardsSent: SHARDS, shardsLost: 0, accountsIndexed: 0 });
    expect(steady.shardRunMs).toHaveLength(SHARDS);
    expect(steady.accountsScheduled).toBe(ACCOUNTS);
    expect(steady.checksSent).toBe(ACCOUNTS * 6);
    // A claim per shard, then its start and its finish: nothing per account.
    expect(steady.dynamo.PutItem).toBe(SHARDS);
    expect(steady.dynamo.UpdateItem).toBe(2 * SHARDS);
    expect(steady.sqs.SendMessageBatch).toBeGreaterThanOrEqual((ACCOUNTS * 6) / 10);
    expect(steady.sqs.SendMessageBatch).toBeLessThan((ACCOUNTS * 6) / 10 + 2 * SHARDS);

    // The same event again (EventBridge delivers at least once): nothing is sent twice.
    const repeated = await rig.minute(minute + 60_000 + 1_000);
    expect(repeated.fanOut.shardsSent).toBe(0);
    expect(repeated.checksSent).toBe(0);
    expect(repeated.dynamo.PutItem ?? 0).toBe(0);
  });
});
