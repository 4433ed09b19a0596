import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { UntrustedExchangeUrlError } from '#adapters/bybit/hosts.js';
import { StaticCredentials } from '#adapters/credentials/static-credentials.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { readEnvironment } from '#handlers/environment.js';
import { wireScheduler } from '#handlers/scheduler-wiring.js';
import { wireWorker } from '#handlers/worker-wiring.js';
import type { AccountRecord } from '#ports/accounts.js';
import { CredentialsUnavailableError } from '#ports/credentials.js';

// Clients are built but never called in these tests: nothing here reaches a network.
const inputs = (env: Record<string, string> = {}) => ({
  environment: readEnvironment({
    STOPGUARD_TABLE_NAME: 'stopguard',
    STOPGUARD_QUEUE_URL: 'http://127.0.0.1:1/000000000000/work',
    STOPGUARD_DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq',
    STOPGUARD_SECRET_PREFIX: 'stopguard/',
    ...env,
  }),
  dynamoDb: new DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }),
  sqs: new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1' }),
  telemetry: new MemoryTelemetry(),
});
const account = (credentialsRef: string): AccountRecord => ({
  accountId: 'alice',
  enabled: true,
  credentialsRef,
  exchange: { category: 'linear', settleCoins: ['USDT'] },
});
const credentials = new StaticCredentials({
  'stopguard/alice': { apiKey: 'key-a', apiSecret: 'secret-a' },
  'elsewhere/alice': { apiKey: 'key-b', apiSecret: 'secret-b' },
});

describe('the functions wiring', () => {
  it("refuses an account whose credentials live outside the stack's secret prefix, naming no secret value", async () => {
    const { reconciler } = wireWorker({ ...inputs(), credentials });
    const refused = reconciler.exchangeFor(account('elsewhere/alice'));
    await expect(refused).rejects.toBeInstanceOf(CredentialsUnavailableError);
    await expect(refused).rejects.toThrow('credentialsRef "elsewhere/alice" must be "stopguard/alice"');
    await expect(refused).rejects.not.toThrow(/secret-b|key-b/);
  });

  it("refuses a record that names another account's secret, even under the stack's prefix", async () => {
    const { reconciler } = wireWorker({ ...inputs(), credentials });
    await expect(reconciler.exchangeFor(account('stopguard/bob'))).rejects.toThrow(
      'credentialsRef "stopguard/bob" must be "stopguard/alice"',
    );
  });

  it("sends signed requests only to Bybit's https hosts, or to an origin the deployment names", async () => {
    const withBase = (baseUrl: string): AccountRecord => ({
      ...account('stopguard/alice'),
      exchange: { category: 'linear', settleCoins: ['USDT'], baseUrl },
    });
    const { reconciler } = wireWorker({ ...inputs(), credentials });
    for (const refused of [
      'http://api.bybit.com',
      'https://api.bybit.com.evil.example',
      'https://evil.example',
      'http://127.0.0.1:4010',
      'https://user:pw@api.bybit.com',
      'https://api.bybit.com:8443',
      'http://api.bybit.com:443',
      // A trailing dot is another name for DNS, but not one of the names allowed.
      'https://api.bybit.com.',
      // A homograph: a Cyrillic "а" (punycode xn--).
      'https://\u0430pi.bybit.com',
      // Backslash then @: WHATWG reads the backslash as a path, so this has a path and is refused.
      'https://api.bybit.com\\@evil.example',
      'https://api.bybit.com/v5',
    ]) {
      await expect(reconciler.exchangeFor(withBase(refused)), refused).rejects.toBeInstanceOf(
        UntrustedExchangeUrlError,
      );
    }
    for (const allowed of [
      'https://api.bybit.com',
      'https://api-testnet.bybit.com',
      'https://api-demo.bybit.com',
      // The same hosts, as URL normalises them: case, the default port, a percent-encoded dot.
      'https://API.BYBIT.COM',
      'https://api.bybit.com:443',
      'https://api%2ebybit.com',
    ]) {
      await expect(reconciler.exchangeFor(withBase(allowed)), allowed).resolves.toBeDefined();
    }
    const local = wireWorker({
      ...inputs({ STOPGUARD_EXTRA_EXCHANGE_ORIGINS: 'http://127.0.0.1:4010' }),
      credentials,
    }).reconciler;
    await expect(local.exchangeFor(withBase('http://127.0.0.1:4010'))).resolves.toBeDefined();
    await expect(local.exchangeFor(withBase('http://127.0.0.1:4011'))).rejects.toBeInstanceOf(
      UntrustedExchangeUrlError,
    );
  });

  it('opens one session per account and reuses it while nothing it was built from changed', async () => {
    const vault = new Map([['stopguard/alice', { apiKey: 'key-a', apiSecret: 'secret-a' }]]);
    const rotating = { get: async (ref: string) => vault.get(ref) ?? Promise.reject(new Error('none')) };
    const { reconciler } = wireWorker({ ...inputs(), credentials: rotating });
    const first = await reconciler.exchangeFor(account('stopguard/alice'));
    expect(await reconciler.exchangeFor(account('stopguard/alice'))).toBe(first);
    // A fixed secret (same key id) is used at once, not when the container recycles.
    vault.set('stopguard/alice', { apiKey: 'key-a', apiSecret: 'secret-fixed' });
    const afterSecret = await reconciler.exchangeFor(account('stopguard/alice'));
    expect(afterSecret).not.toBe(first);
    const inverse = await reconciler.exchangeFor({
      ...account('stopguard/alice'),
      exchange: { category: 'inverse', settleCoins: ['BTC'] },
    });
    expect(inverse).not.toBe(afterSecret);
    const otherCoins = await reconciler.exchangeFor({
      ...account('stopguard/alice'),
      exchange: { category: 'inverse', settleCoins: ['ETH'] },
    });
    expect(otherCoins).not.toBe(inverse);
  });

  it("refuses a secret prefix that does not end in '/' (it would cover another stack's secrets)", () => {
    expect(() => inputs({ STOPGUARD_SECRET_PREFIX: 'stopguard' })).toThrow(/STOPGUARD_SECRET_PREFIX/);
  });

  it('tells the credentials to forget an account whose keys the exchange refused', () => {
    const forgotten: string[] = [];
    const { reconciler } = wireWorker({
      ...inputs(),
      credentials: {
        get: async () => ({ apiKey: 'k', apiSecret: 's' }),
        forget: (ref) => forgotten.push(ref),
      },
    });
    reconciler.forgetKeys?.(account('stopguard/alice'));
    expect(forgotten).toEqual(['stopguard/alice']);
  });

  it('gives the scheduler no exchange and no credentials at all', () => {
    const deps = wireScheduler(
      inputs({
        STOPGUARD_SCHEDULE_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/schedule',
        STOPGUARD_SCHEDULE_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/schedule-dlq',
        STOPGUARD_SCHEDULE_SHARDS: '16',
      }),
    );
    expect(Object.keys(deps.scheduler)).not.toContain('exchangeFor');
    expect(Object.keys(deps.scheduler)).not.toContain('credentials');
    expect(deps.scheduler.shards).toBe(16);
  });

  it('refuses a shard count the schedule index cannot split into', () => {
    expect(() => inputs({ STOPGUARD_SCHEDULE_SHARDS: '12' })).toThrow(/STOPGUARD_SCHEDULE_SHARDS/);
  });
});
