import { describe, expect, it } from 'vitest';
import {
  type CheckQuantities,
  containerMonthly,
  type Deployment,
  monthlyCost,
  type WorkloadProfile,
} from '#bench/cost/model.js';
import { PRICES, SECONDS_PER_MONTH } from '#bench/cost/prices.js';

const none: CheckQuantities = {
  readUnits: 0,
  writeUnits: 0,
  dynamoRequests: 0,
  exchangeCalls: 0,
  followUpMessages: 0,
  logBytes: 0,
  logLines: 0,
};
const steady: CheckQuantities = {
  ...none,
  readUnits: 1.5,
  writeUnits: 0.1,
  dynamoRequests: 2,
  exchangeCalls: 1,
};
const workload: WorkloadProfile = {
  name: 'test',
  steady,
  events: {
    ...none,
    writeUnits: 0.2,
    followUpMessages: 0.01,
    exchangeCalls: 0.1,
    logLines: 0.02,
    logBytes: 8,
  },
};
const deployment: Deployment = {
  workerMemoryMb: 512,
  batchSize: 10,
  checksPerMessage: 1,
  workerConcurrency: 10,
  batchingWindowS: 1,
  exchangeRoundTripMs: 150,
  dynamoRoundTripMs: 6,
  cpuMsPerCheck: 2,
  schedulerMemoryMb: 256,
  schedulerCpuMsPerAccount: 0.4,
  accountsPerShard: 2_000,
  accountRecordBytes: 300,
  storedBytesPerAccount: 20_000,
  logContextBytes: 400,
  invocationLogBytes: 900,
  keys: 'secret-per-account',
  keyCacheMinutes: 5,
  metrics: 28,
  alarms: 20,
  dashboards: 1,
};

describe('the cost model', () => {
  it('prices each check’s DynamoDB units at the table’s rates, events included at their 10 s share', () => {
    const cost = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    const checks = (1_000 * SECONDS_PER_MONTH) / 10;
    expect(cost.derived.checksPerMonth).toBeCloseTo(checks, 3);
    const expected =
      checks * (1.5 * PRICES.dynamodb.readRequestUnit + 0.3 * PRICES.dynamodb.writeRequestUnit);
    expect(cost.fleet['DynamoDB: checks']).toBeCloseTo(expected, 6);
  });

  it('counts a send per ten checks, a confirmation each, and a receive and a delete per batch', () => {
    const cost = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    // 100 checks a second fill every batch of ten within the window.
    expect(cost.derived.recordsPerInvocation).toBe(10);
    expect(cost.derived.sqsRequestsPerCheck).toBeCloseTo(0.1 + 0.01 + (1.01 * 2) / 10, 9);
    // Ten accounts a minute apart fill no batch: a receive and a delete per message.
    const sparse = monthlyCost(workload, deployment, { accounts: 10, cadenceS: 60 });
    expect(sparse.derived.recordsPerInvocation).toBe(1);
  });

  it('keeps closes per hour at a slower cadence: each check carries more of them', () => {
    const fast = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    const slow = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 60 });
    const eventWrites = (c: typeof fast) => c.fleet['DynamoDB: checks'];
    // The steady part falls six-fold; the event part stays.
    const steadyPart =
      (1_000 *
        SECONDS_PER_MONTH *
        (1.5 * PRICES.dynamodb.readRequestUnit + 0.1 * PRICES.dynamodb.writeRequestUnit)) /
      10;
    expect(eventWrites(fast) - steadyPart).toBeCloseTo(eventWrites(slow) - steadyPart / 6, 6);
    expect(slow.perAccountTotal).toBeLessThan(fast.perAccountTotal);
  });

  it('bills a secret per account, or one key for the fleet', () => {
    const secrets = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    expect(secrets.perAccount['account keys']).toBeGreaterThanOrEqual(PRICES.secretsManager.secretMonth);
    // Ten containers each decrypting every account's keys every 5 minutes: the requests are the bill.
    const kms = monthlyCost(
      workload,
      { ...deployment, keys: 'one-kms-key' },
      { accounts: 1_000, cadenceS: 10 },
    );
    const decrypts = 1_000 * 10 * (SECONDS_PER_MONTH / 60 / 5);
    expect(kms.fleet['account keys']).toBeCloseTo(PRICES.kms.keyMonth + decrypts * PRICES.kms.request, 6);
    const hourly = monthlyCost(
      workload,
      { ...deployment, keys: 'one-kms-key', keyCacheMinutes: 60 },
      { accounts: 1_000, cadenceS: 10 },
    );
    const requests = (c: typeof kms) => c.fleet['account keys'] - PRICES.kms.keyMonth;
    expect(requests(hourly)).toBeCloseTo(requests(kms) / 12, 6);
  });

  it('spreads fixed costs over the fleet and grows the rest with it', () => {
    const small = monthlyCost(workload, deployment, { accounts: 100, cadenceS: 10 });
    const large = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    expect(small.fleet['metrics, alarms, dashboard']).toBe(large.fleet['metrics, alarms, dashboard']);
    expect(large.fleet['DynamoDB: checks'] / small.fleet['DynamoDB: checks']).toBeCloseTo(10, 6);
    const total = Object.values(large.fleet).reduce((a, b) => a + b, 0);
    expect(large.fleetTotal).toBeCloseTo(total, 9);
  });

  it('several accounts per message cut the queue’s requests and the invocations in proportion', () => {
    const one = monthlyCost(workload, deployment, { accounts: 1_000, cadenceS: 10 });
    const ten = monthlyCost(
      workload,
      { ...deployment, checksPerMessage: 10 },
      { accounts: 1_000, cadenceS: 10 },
    );
    expect(ten.fleet.SQS).toBeLessThan(one.fleet.SQS / 3);
    expect(ten.fleet['Lambda worker']).toBeLessThan(one.fleet['Lambda worker']);
  });

  it('prices the always-on container per task of 1,000 accounts', () => {
    const task =
      (0.25 * PRICES.fargate.vcpuHour + 0.5 * PRICES.fargate.gbHour + PRICES.fargate.ipv4Hour) * 730;
    expect(containerMonthly(1_000).fleet).toBeCloseTo(task, 9);
    expect(containerMonthly(10).perAccount).toBeCloseTo(task / 10, 9);
    expect(containerMonthly(10_000).fleet).toBeCloseTo(task * 10, 9);
  });
});
