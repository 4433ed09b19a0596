import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { StaticCredentials } from '../../functions/adapters/credentials/static-credentials.js';
import { MemoryTelemetry } from '../../functions/adapters/memory/memory-telemetry.js';
import { readEnvironment } from '../../functions/handlers/environment.js';
import { wireScheduler } from '../../functions/handlers/wiring.js';
import { wireWorker } from '../../functions/handlers/worker-wiring.js';
import type { AccountRecord } from '../../functions/ports/accounts.js';
import { CredentialsUnavailableError } from '../../functions/ports/credentials.js';

// Clients are built but never called in these tests: nothing here reaches a network.
const inputs = () => ({
  environment: readEnvironment({
    STOPGUARD_TABLE_NAME: 'stopguard',
    STOPGUARD_QUEUE_URL: 'http://127.0.0.1:1/000000000000/work',
    STOPGUARD_DLQ_URL: 'http://127.0.0.1:1/000000000000/dlq',
    STOPGUARD_SECRET_PREFIX: 'stopguard/',
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
    await expect(refused).rejects.toThrow(/outside|not under the prefix "stopguard\/"/);
    await expect(refused).rejects.not.toThrow(/secret-b|key-b/);
  });

  it('opens one session per account and reuses it while the key is unchanged', async () => {
    const { reconciler } = wireWorker({ ...inputs(), credentials });
    const first = await reconciler.exchangeFor(account('stopguard/alice'));
    expect(await reconciler.exchangeFor(account('stopguard/alice'))).toBe(first);
  });

  it('gives the scheduler no exchange at all', async () => {
    const deps = wireScheduler(inputs());
    await expect(deps.exchangeFor(account('stopguard/alice'))).rejects.toThrow('no exchange access');
  });
});
