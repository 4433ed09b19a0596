import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryDeadLetters } from '#adapters/memory/memory-dead-letters.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import { createWorkerHandler, type WorkerDeps } from '#handlers/worker-handler.js';
import { SimVenue } from '#local/simulation/venue.js';
import { noFaults } from '#local/simulation/venue-faults.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import type { AccountRecord } from '#ports/accounts.js';

const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);

function rig(): {
  deps: WorkerDeps;
  venue: SimVenue;
  deadLetters: MemoryDeadLetters;
  audit: MemoryAudit;
  queue: MemoryQueue;
  advance: (ms: number) => void;
} {
  let now = NOW;
  const clock = { now: () => now };
  const venue = new SimVenue(1, clock, noFaults);
  const deadLetters = new MemoryDeadLetters();
  const audit = new MemoryAudit();
  const queue = new MemoryQueue(clock);
  let n = 0;
  const reconciler: ReconcilerDeps = {
    clock,
    ids: { next: (p) => `${p}-${n++}` },
    accounts: new MemoryAccounts([account, { ...account, accountId: 'acct-2', enabled: false }]),
    store: new MemoryStore(),
    cap: new MemoryCap({ perAccount: 10, global: 50, windowMs: 60_000 }),
    placementCap: new MemoryCap({ perAccount: 5, global: 20, windowMs: 60_000 }),
    queue,
    audit,
    telemetry: new MemoryTelemetry(),
    settings: defaultSettings,
    random: { next: () => 0.5 },
    fleet: new MemoryFleetGuard(),
    exchangeFor: async (account) => venue.session(account.accountId),
  };
  return {
    deps: { reconciler, deadLetters },
    venue,
    deadLetters,
    audit,
    queue,
    advance: (ms) => {
      now += ms;
    },
  };
}

const account: AccountRecord = {
  accountId: 'acct-1',
  enabled: true,
  credentialsRef: 'stopguard/acct-1',
  exchange: { category: 'linear', settleCoins: ['USDT'] },
};
const record = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: `rh-${messageId}`,
  body,
  attributes: {} as SQSEvent['Records'][number]['attributes'],
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:stopguard-work',
  awsRegion: 'us-east-1',
});
const context = {
  functionName: 'worker',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

describe('the worker Lambda (middy + Powertools batch), on real SQS event shapes', () => {
  it('dead-letters a malformed message with its reason and still processes the good ones', async () => {
    const { deps, venue, deadLetters, queue } = rig();
    venue.open('acct-1', 'BTCUSDT', 0, 'long', 1);
    const handler = createWorkerHandler(
      async () => deps,
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
    );
    const event: SQSEvent = {
      Records: [
        record('m1', 'not json'),
        record(
          'm2',
          JSON.stringify({
            type: 'confirm',
            accountId: 'acct-1',
            symbol: 'BTCUSDT',
            positionIdx: 7,
            attempt: 0,
          }),
        ),
        record('m3', JSON.stringify({ type: 'check', accountId: 'acct-1', slot: 1 })),
      ],
    };
    const response = await handler(event, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.messages.map((m) => m.reason)).toEqual([
      'body is not JSON',
      expect.stringMatching(/^positionIdx: /),
    ]);
    expect(deadLetters.messages[1]?.body).toContain('"positionIdx":7');
    // the good check ran: one list fetch
    expect(venue.calls.list).toBe(1);
    expect(queue.size).toBe(0);
  });

  it('reports a record whose processing failed, so SQS redelivers only that one', async () => {
    const { deps } = rig();
    const failing: WorkerDeps = {
      ...deps,
      reconciler: {
        ...deps.reconciler,
        exchangeFor: async () => Promise.reject(new Error('secret unavailable')),
      },
    };
    const handler = createWorkerHandler(
      async () => failing,
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
    );
    // acct-2 is disabled: its check ends before any exchange access.
    const good = record('ok', JSON.stringify({ type: 'check', accountId: 'acct-2', slot: 1 }));
    const bad = record('bad', JSON.stringify({ type: 'check', accountId: 'acct-1', slot: 1 }));
    const response = await handler({ Records: [good, bad] }, context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
  });

  it('dead-letters a check that describes its own account, and a registration: the work queue takes ids only', async () => {
    const { deps, venue, deadLetters } = rig();
    const handler = createWorkerHandler(
      async () => deps,
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
    );
    // A forged check that would make the worker sign with another account's keys for any host.
    const forged = {
      type: 'check',
      accountId: 'acct-1',
      slot: 1,
      account: {
        ...account,
        credentialsRef: 'stopguard/victim',
        exchange: { ...account.exchange, baseUrl: 'http://evil.example' },
      },
    };
    const registration = {
      type: 'register',
      accountId: 'acct-1',
      position: { symbol: 'BTCUSDT', positionIdx: 0, side: 'long', size: '1', updatedAt: NOW },
    };
    const response = await handler(
      { Records: [record('forged', JSON.stringify(forged)), record('reg', JSON.stringify(registration))] },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(deadLetters.messages.map((m) => m.reason)).toEqual([
      expect.stringMatching(/Unrecognized key.*"account"/),
      expect.stringMatching(/^type: /),
    ]);
    expect(venue.calls.list).toBe(0);
  });

  it("runs one account's confirmations of a batch one after another, so the first pass takes them all", async () => {
    const { deps, venue, queue, advance } = rig();
    const handler = createWorkerHandler(
      async () => deps,
      new Logger({ logLevel: 'SILENT' }),
      new Metrics({ namespace: 'Test', serviceName: 'stopguard' }),
    );
    // Two of five close: fewer than half, so the list that misses them is believed.
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT', 'ADAUSDT'];
    for (const symbol of symbols) {
      venue.open('acct-1', symbol, 0, 'long', 1);
      venue.placeProtective('acct-1', symbol, 0, 'stop-loss');
    }
    const check = (slot: number) =>
      record(`c${slot}`, JSON.stringify({ type: 'check', accountId: 'acct-1', slot }));
    await handler({ Records: [check(1)] }, context);
    for (const symbol of symbols.slice(0, 2)) venue.close('acct-1', symbol, 0, 'manual');
    await handler({ Records: [check(2)] }, context);
    advance(60_000);
    const confirms = queue.takeDue(NOW + 60_000);
    expect(confirms).toHaveLength(2);
    const listsBefore = venue.calls.list;
    const response = await handler(
      { Records: confirms.map((c, i) => record(`f${i}`, JSON.stringify(c.message))) },
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    // One pass: one positions list for the two, not one each.
    expect(venue.calls.list - listsBefore).toBe(1);
    expect(venue.pendingOrphans()).toEqual([]);
  });
});
