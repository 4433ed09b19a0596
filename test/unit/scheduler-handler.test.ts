import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryDeadLetters } from '#adapters/memory/memory-dead-letters.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryScheduleClaims, MemoryShardQueue } from '#adapters/memory/memory-schedule.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import { createSchedulerHandler } from '#handlers/scheduler-handler.js';
import { lambdaContext, scheduledEvent } from '#local/pipeline/lambda-events.js';
import type { FanOutOutcome } from '#orchestration/schedule.js';
import type { AccountRecord } from '#ports/accounts.js';

const MINUTE = 60_000;
const minuteStart = 29_000_000 * MINUTE;
const account = (accountId: string): AccountRecord => ({
  accountId,
  enabled: true,
  credentialsRef: `stopguard/${accountId}`,
  exchange: { category: 'linear', settleCoins: ['USDT'] },
});

function rig() {
  const accounts = new MemoryAccounts([account('a'), account('b')]);
  const indexed: number[] = [];
  accounts.indexForSchedule = async () => {
    indexed.push(1);
    return 0;
  };
  const shardQueue = new MemoryShardQueue();
  const sent: string[] = [];
  const deadLetters = new MemoryDeadLetters();
  const handler = createSchedulerHandler(
    async () => ({
      scheduler: {
        clock: { now: () => minuteStart + 1_000 },
        accounts,
        queue: {
          sendChecks: async (checks) => {
            for (const c of checks) sent.push(c.message.accountId);
          },
          sendConfirm: async () => {},
        },
        fleet: new MemoryFleetGuard(),
        telemetry: new MemoryTelemetry(),
        settings: defaultSettings,
        claims: new MemoryScheduleClaims(),
        shardQueue,
        shards: 2,
      },
      deadLetters,
    }),
    new Logger({ logLevel: 'SILENT' }),
    new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
  );
  const records = (bodies: readonly string[]): SQSEvent => ({
    Records: bodies.map((body, i) => ({ messageId: `m-${i}`, body }) as SQSEvent['Records'][number]),
  });
  return { handler, shardQueue, sent, indexed, deadLetters, records };
}

describe('the scheduler handler', () => {
  it('fans out on EventBridge’s event and runs a shard per queue record', async () => {
    const r = rig();
    const fanOut = (await r.handler(scheduledEvent(minuteStart), lambdaContext('s'))) as FanOutOutcome;
    expect(fanOut.shardsSent).toBe(4);
    const bodies = r.shardQueue.take().map((s) => JSON.stringify({ type: 'schedule-shard', ...s }));
    const response = (await r.handler(r.records(bodies), lambdaContext('s'))) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect(r.sent.filter((id) => id === 'a')).toHaveLength(12);
    expect(r.sent.filter((id) => id === 'b')).toHaveLength(12);
  });

  it('sweeps account buckets on a container’s first fan-out and on the hour, not every minute', async () => {
    const r = rig();
    await r.handler(scheduledEvent(minuteStart), lambdaContext('s'));
    await r.handler(scheduledEvent(minuteStart + MINUTE), lambdaContext('s'));
    expect(r.indexed).toHaveLength(1);
    // Minute 29,000,040 (epoch minutes) is the top of an hour.
    await r.handler(scheduledEvent(minuteStart + 40 * MINUTE), lambdaContext('s'));
    expect(r.indexed).toHaveLength(2);
  });

  it('dead-letters a malformed shard record with its reason and fails nothing', async () => {
    const r = rig();
    const response = (await r.handler(
      r.records([JSON.stringify({ type: 'schedule-shard', minute: 1, shard: 3, shards: 2 })]),
      lambdaContext('s'),
    )) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect(r.deadLetters.messages.map((m) => m.reason)).toEqual([
      expect.stringMatching(/shard must be below shards/),
    ]);
    expect(r.sent).toEqual([]);
  });
});
