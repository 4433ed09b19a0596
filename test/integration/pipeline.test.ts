import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#adapters/dynamodb/document.js';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { Keys } from '#adapters/dynamodb/table.js';
import type { CheckMessage } from '#contracts/messages.js';
import { type BybitSimulator, noFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import {
  accountRecordOf,
  type LocalAccount,
  type LocalPipeline,
  startLocalPipeline,
} from '#local/pipeline/pipeline.js';
import { Metric, type MetricName } from '#ports/telemetry.js';

/**
 * The whole pipeline on real parts: the worker handler the Lambda exports, wired by the same code, fed
 * by an SQS poller from the SQS stand-in, state in DynamoDB Local, the exchange our Bybit V5 simulator
 * reached through bybit-api. Each scenario uses its own accounts; the simulator's faults are global,
 * so scenarios run one after another and reset them.
 */

const ACCOUNTS = ['dropped', 'closed', 'no-evidence', 'duplicate', 'shadow', 'race'] as const;
type AccountName = (typeof ACCOUNTS)[number];

const accounts: LocalAccount[] = ACCOUNTS.map((id) => ({
  id,
  apiKey: randomBytes(9).toString('base64url'),
  apiSecret: randomBytes(24).toString('base64url'),
  ...(id === 'shadow' ? { shadow: true } : {}),
}));
const accountOf = (id: AccountName) => {
  const found = accounts.find((a) => a.id === id);
  if (found === undefined) throw new Error(`no account ${id}`);
  return found;
};

let simulator: BybitSimulator;
let pipeline: LocalPipeline;
let slot = 0;

beforeAll(async () => {
  simulator = await startBybitSimulator({ seed: 11, faults: noFaults, accounts, rateLimitPerSecond: 0 });
  simulator.admin.setPrice('BTCUSDT', '60000');
  simulator.admin.setPrice('ETHUSDT', '3000');
  pipeline = await startLocalPipeline({
    accounts,
    exchangeUrl: simulator.url,
    workerConcurrency: 6,
    settings: {
      confirmDelayMs: 1_000,
      // No grace for lagging history: an absent close event is a keep at once (the simulator has no lag).
      evidenceGraceMs: 0,
      // One window for the whole file: the cap scenario must not straddle two.
      capWindowMs: 3_600_000,
    },
  });
  // What a confirmation reads: the stored record, with the race account's own cap.
  await new DynamoAccounts({ client: pipeline.dynamoDb, tableName: pipeline.tableName }).put(raceRecord());
}, 60_000);

afterAll(async () => {
  await pipeline?.stop();
  await simulator?.close();
});

afterEach(() => simulator.admin.setFaults(noFaults));

function openProtected(accountId: AccountName, symbol = 'BTCUSDT'): { sl: string; tp: string } {
  const price = symbol === 'BTCUSDT' ? 60000 : 3000;
  simulator.admin.openPosition({
    accountId,
    symbol,
    side: 'Buy',
    qty: symbol === 'BTCUSDT' ? '0.01' : '0.5',
  });
  return {
    sl: simulator.admin.placeProtectiveOrder({
      accountId,
      symbol,
      kind: 'stop-loss',
      triggerPrice: String(price * 0.9),
    }),
    tp: simulator.admin.placeProtectiveOrder({
      accountId,
      symbol,
      kind: 'take-profit',
      triggerPrice: String(price * 1.1),
    }),
  };
}

/** The race account may cancel 3 orders per window (its record overrides the default of 10). */
const RACE_CAP = 3;

const raceRecord = () => ({ ...accountRecordOf(accountOf('race')), settings: { capPerAccount: RACE_CAP } });

function checkMessage(accountId: AccountName): CheckMessage {
  return { type: 'check', accountId, slot: slot++ };
}

/**
 * Sends a check and waits until the worker has finished it: its duration is recorded after the
 * whole message was handled (ChecksRun moves earlier, before the suspects are written).
 */
async function check(accountId: AccountName): Promise<void> {
  const finished = () => pipeline.telemetry.samplesOf(Metric.CheckDurationMs).length;
  const before = finished();
  await pipeline.send(checkMessage(accountId));
  await until(() => finished() > before, `check of ${accountId}`);
}

const metric = (name: MetricName) => pipeline.telemetry.countOf(name);

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function suspectsOf(accountId: string): Promise<Record<string, unknown>[]> {
  const result = await documentClient(pipeline.dynamoDb).send(
    new QueryCommand({
      TableName: pipeline.tableName,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :suspect)',
      ExpressionAttributeValues: { ':pk': Keys.accountPartition(accountId), ':suspect': 'SUSPECT#' },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

/** Today's and yesterday's partitions (UTC days): a test running across midnight still finds its entries. */
async function auditOf(accountId: string): Promise<Record<string, unknown>[]> {
  const now = Date.now();
  const partitions = [...new Set([now - 86_400_000, now].map((t) => Keys.auditPartition(accountId, t)))];
  const pages = await Promise.all(
    partitions.map((pk) =>
      documentClient(pipeline.dynamoDb).send(
        new QueryCommand({
          TableName: pipeline.tableName,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': pk },
        }),
      ),
    ),
  );
  return pages.flatMap((page) => page.Items ?? []);
}

/** Waits for the account's cancel-orphans audit item (the last thing a confirmation writes), then returns them all. */
async function auditedCancels(accountId: string): Promise<Record<string, unknown>[]> {
  const cancels = async () => (await auditOf(accountId)).filter((a) => a.decision === 'cancel-orphans');
  await until(async () => (await cancels()).length > 0, `the audit of ${accountId}'s cancel`);
  return cancels();
}

const decisionsOf = (accountId: string) =>
  pipeline.telemetry.decisions.filter((d) => d.accountId === accountId);
const restingIds = (accountId: string) => simulator.admin.openOrders(accountId).map((o) => o.orderId);
const cancelsOf = (accountId: string) =>
  simulator.admin.groundTruth().cancels.filter((c) => c.accountId === accountId);

/** Receives at least `count` messages from a dead-letter queue, with the reason each was parked for. */
async function deadLettered(queueUrl: string, count: number): Promise<{ body: string; reason: string }[]> {
  const received: { body: string; reason: string }[] = [];
  await until(async () => {
    const result = await pipeline.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const m of result.Messages ?? [])
      received.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue ?? '' });
    return received.length >= count;
  }, `${count} dead-lettered messages`);
  return received;
}

describe('the pipeline on DynamoDB Local, the SQS stand-in and the Bybit simulator', () => {
  it('suspects a position a list dropped, clears it on the second look, and touches nothing', async () => {
    const { sl, tp } = openProtected('dropped');
    await check('dropped');
    const clearedBefore = metric(Metric.IncompleteResponsesObserved);

    simulator.admin.setFaults({ dropPositions: { probability: 1, maxDropped: 1 } });
    await check('dropped');
    expect(await suspectsOf('dropped')).toHaveLength(1);

    // The decision is audited first, then the suspect ends: wait for both.
    await until(
      () => decisionsOf('dropped').some((d) => d.decision === 'still-open'),
      'the decision to be recorded',
    );
    await until(async () => (await suspectsOf('dropped')).length === 0, 'the suspect to be cleared');
    expect(metric(Metric.IncompleteResponsesObserved)).toBe(clearedBefore + 1);
    expect(restingIds('dropped')).toEqual(expect.arrayContaining([sl, tp]));
    expect(cancelsOf('dropped')).toEqual([]);
    expect(decisionsOf('dropped').map((d) => d.decision)).toContain('still-open');
  });

  it('cancels the orphans of a real close after the delayed confirmation, with the evidence audited', async () => {
    const { sl, tp } = openProtected('closed');
    await check('closed');
    simulator.admin.closePosition({ accountId: 'closed', symbol: 'BTCUSDT', how: 'manual' });
    await check('closed');

    await until(() => restingIds('closed').length === 0, 'the orphans to be cancelled');
    expect(
      cancelsOf('closed')
        .map((c) => c.orderId)
        .sort(),
    ).toEqual([sl, tp].sort());
    expect(simulator.admin.groundTruth().falseCancels).toEqual([]);

    await until(async () => (await suspectsOf('closed')).length === 0, 'the suspect to be resolved');
    // The audit item is written last, after the suspect is gone and the line logged.
    const audited = await auditedCancels('closed');
    expect(audited).toHaveLength(1);
    const [entry] = audited;
    expect(entry?.orderIds).toEqual(expect.arrayContaining([sl, tp]));
    // The close fill the decision rests on, and the lists that lacked the position.
    expect(entry?.evidenceIds).toEqual([expect.any(String)]);
    expect((entry?.snapshotIds as string[] | undefined)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(entry?.message).toMatch(/^cancelled 2 orders .* orphaned by BTCUSDT/);
  });

  it('keeps the orders and raises the alarm metric when the lists say gone but history shows no close', async () => {
    const { sl, tp } = openProtected('no-evidence');
    await check('no-evidence');
    const keptBefore = metric(Metric.KeptForLackOfEvidence);

    // The exchange hides the open position from lists and from the symbol query alike.
    simulator.admin.setFaults({
      dropPositions: { probability: 1, maxDropped: 1 },
      correlatedDrop: { probability: 1, durationMs: 600_000, includeSymbolQueries: true },
    });
    await check('no-evidence');

    await until(
      () => decisionsOf('no-evidence').some((d) => d.decision === 'keep-orders'),
      'the keep decision',
    );
    expect(metric(Metric.KeptForLackOfEvidence)).toBeGreaterThan(keptBefore);
    expect(restingIds('no-evidence')).toEqual(expect.arrayContaining([sl, tp]));
    expect(cancelsOf('no-evidence')).toEqual([]);
    const kept = decisionsOf('no-evidence').find((d) => d.decision === 'keep-orders');
    expect(kept?.alarm).toBe(true);
    expect(kept?.message).toMatch(/^kept 2 orders .* on BTCUSDT/);
    expect(pipeline.telemetry.alarms.some((a) => a.startsWith('kept'))).toBe(true);
    // The suspect stays, with its next look scheduled: the keep has a way to resolve.
    expect(await suspectsOf('no-evidence')).toHaveLength(1);
  });

  it('acts once on a confirmation delivered several times', async () => {
    const { sl, tp } = openProtected('duplicate');
    await check('duplicate');
    simulator.admin.closePosition({ accountId: 'duplicate', symbol: 'BTCUSDT', how: 'manual' });
    await check('duplicate');
    // The check queued attempt 0 with a delay; three more copies of it arrive at once.
    const copy = {
      type: 'confirm',
      accountId: 'duplicate',
      symbol: 'BTCUSDT',
      positionIdx: 0,
      attempt: 0,
    } as const;
    await Promise.all([pipeline.send(copy), pipeline.send(copy), pipeline.send(copy)]);

    await until(() => restingIds('duplicate').length === 0, 'the orphans to be cancelled');
    await until(async () => (await suspectsOf('duplicate')).length === 0, 'the suspect to be resolved');
    // Let the delayed original arrive too before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Four deliveries of attempt 0: one claimed it and decided, the others found it taken or gone.
    // Four deliveries of attempt 0 made one decision between them: the copies that arrived at once
    // found the list too fresh and scheduled attempt 1 (one decision), the others found it claimed or
    // moved on; attempt 1 cancelled. Never four decisions, never a second cancel.
    const confirmDecisions = decisionsOf('duplicate').filter((d) => d.phase === 'confirm');
    expect(confirmDecisions.length).toBeLessThanOrEqual(2);
    expect(
      cancelsOf('duplicate')
        .map((c) => c.orderId)
        .sort(),
    ).toEqual([sl, tp].sort());
    expect(decisionsOf('duplicate').filter((d) => d.decision === 'cancel-orphans')).toHaveLength(1);
  });

  it('dead-letters malformed messages with their reason and loses none', async () => {
    const bodies = [
      'this is not JSON',
      JSON.stringify({ type: 'confirm', accountId: 'closed', symbol: 'BTCUSDT' }),
    ];
    for (const body of bodies) await pipeline.send(body);
    const received: { body: string; reason: string }[] = [];
    await until(async () => {
      const result = await pipeline.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queues.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
        }),
      );
      for (const m of result.Messages ?? [])
        received.push({ body: m.Body ?? '', reason: m.MessageAttributes?.reason?.StringValue ?? '' });
      return received.length >= bodies.length;
    }, 'the dead-lettered messages');
    expect(received.map((r) => r.body).sort()).toEqual([...bodies].sort());
    expect(received.find((r) => r.body === bodies[0])?.reason).toBe('body is not JSON');
    expect(received.find((r) => r.body === bodies[1])?.reason).toMatch(
      /positionIdx.*attempt|attempt.*positionIdx/s,
    );
  });

  it('takes no account description from a message: a forged check reaches no host and signs nothing', async () => {
    // A stranger's server, and a check that names it with another account's credentials.
    const seen: string[] = [];
    const evil = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-bapi-api-key'] ?? '')}`);
      res.end('{}');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
    const forged = JSON.stringify({
      type: 'check',
      accountId: 'dropped',
      slot: slot++,
      account: {
        ...accountRecordOf(accountOf('closed')),
        exchange: { category: 'linear', settleCoins: ['USDT'], baseUrl: evilUrl },
      },
    });
    try {
      await pipeline.send(forged);
      // On the bot's ingress a check is no registration at all.
      await pipeline.sendToIngress(JSON.stringify({ type: 'check', accountId: 'dropped', slot: slot++ }));
      // A registration for an account stopguard does not know is refused, not written.
      await pipeline.sendToIngress({
        type: 'register',
        accountId: 'nobody',
        position: { symbol: 'BTCUSDT', positionIdx: 0, side: 'long', size: '1', updatedAt: Date.now() },
      });
      const work = await deadLettered(pipeline.queues.deadLetterQueueUrl, 1);
      expect(work[0]?.reason).toMatch(/Unrecognized key.*"account"/);
      const ingress = await deadLettered(pipeline.registerQueues.deadLetterQueueUrl, 2);
      expect(ingress.map((r) => r.reason).sort()).toEqual([
        'account nobody is unknown',
        expect.stringMatching(/^type: /),
      ]);
      expect(seen).toEqual([]);
    } finally {
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it('records the decision in shadow mode and cancels nothing', async () => {
    const { sl, tp } = openProtected('shadow');
    await check('shadow');
    simulator.admin.closePosition({ accountId: 'shadow', symbol: 'BTCUSDT', how: 'manual' });
    const skippedBefore = metric(Metric.ShadowCancelsSkipped);
    await check('shadow');

    await until(
      () => decisionsOf('shadow').some((d) => d.decision === 'cancel-orphans'),
      'the shadow decision',
    );
    expect(metric(Metric.ShadowCancelsSkipped)).toBeGreaterThanOrEqual(skippedBefore + 2);
    expect(restingIds('shadow')).toEqual(expect.arrayContaining([sl, tp]));
    expect(cancelsOf('shadow')).toEqual([]);
    const audited = await auditedCancels('shadow');
    expect(audited).toHaveLength(1);
    expect(audited[0]?.shadow).toBe(true);
  });

  it('grants exactly the cap to confirmations racing in parallel workers, and defers the rest with an alarm', async () => {
    // Ten positions with one stop-loss each; four close at once (fewer than half, so the list is
    // believed) and their four confirmations race for the account's three slots.
    const symbols = Array.from({ length: 10 }, (_, i) => `R${i}USDT`);
    for (const symbol of symbols) {
      simulator.admin.setPrice(symbol, '10');
      simulator.admin.openPosition({ accountId: 'race', symbol, side: 'Buy', qty: '1' });
      simulator.admin.placeProtectiveOrder({
        accountId: 'race',
        symbol,
        kind: 'stop-loss',
        triggerPrice: '9',
      });
    }
    await check('race');
    for (const symbol of symbols.slice(0, 4))
      simulator.admin.closePosition({ accountId: 'race', symbol, how: 'manual' });
    const refusalsBefore = metric(Metric.CapRefusals);
    await check('race');

    const settled = () =>
      decisionsOf('race').filter((d) => d.decision === 'cancel-orphans' || d.decision === 'defer-cap-spent');
    await until(() => settled().length >= 4, 'every racer to be cancelled or refused');
    expect(cancelsOf('race')).toHaveLength(RACE_CAP);
    expect(metric(Metric.CapRefusals) - refusalsBefore).toBe(1);
    const deferred = decisionsOf('race').filter((d) => d.decision === 'defer-cap-spent');
    expect(deferred).toHaveLength(1);
    expect(deferred[0]?.alarm).toBe(true);
    expect(deferred[0]?.message).toMatch(/account cancel cap \(3 per window/);
    expect(simulator.admin.groundTruth().falseCancels).toEqual([]);
    // The one refused keeps its suspect, to be taken in the next window; the others end once audited.
    await until(async () => (await suspectsOf('race')).length === 1, 'the cancelled suspects to end');
  });
});
