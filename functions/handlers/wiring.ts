import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createBybitSession } from '../adapters/bybit/bybit-session.js';
import { DynamoAccounts } from '../adapters/dynamodb/dynamo-accounts.js';
import { DynamoAudit } from '../adapters/dynamodb/dynamo-audit.js';
import { DynamoCap } from '../adapters/dynamodb/dynamo-cap.js';
import { DynamoStore } from '../adapters/dynamodb/dynamo-store.js';
import { SqsDeadLetters } from '../adapters/sqs/sqs-dead-letters.js';
import { SqsWorkQueue } from '../adapters/sqs/sqs-queue.js';
import type { ReconcilerDeps } from '../orchestration/dependencies.js';
import type { AccountRecord } from '../ports/accounts.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type CredentialsProvider, CredentialsUnavailableError } from '../ports/credentials.js';
import type { ExchangeSession } from '../ports/exchange.js';
import { type IdSource, randomIds } from '../ports/ids.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { FunctionEnvironment } from './environment.js';
import type { WorkerDeps } from './worker-handler.js';

/** What differs between AWS and the local pipeline: the clients, the vault, the sinks. The wiring is shared. */
export interface WiringInputs {
  readonly environment: FunctionEnvironment;
  readonly dynamoDb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly telemetry: Telemetry;
  readonly clock?: Clock;
  readonly ids?: IdSource;
}

/**
 * The scheduler's dependencies: it reads accounts and enqueues checks. Its exchange access is a
 * function that refuses, so even a wiring mistake cannot make the scheduler cancel anything.
 */
export function wireScheduler(inputs: WiringInputs): ReconcilerDeps {
  return {
    ...wireCommon(inputs),
    exchangeFor: async () => {
      throw new Error('the scheduler has no exchange access');
    },
  };
}

/** The worker's dependencies: everything, with exchange sessions opened per account from its credentials. */
export function wireWorker(inputs: WiringInputs & { readonly credentials: CredentialsProvider }): WorkerDeps {
  const { environment, credentials } = inputs;
  const common = wireCommon(inputs);
  const sessions = new Map<string, { apiKey: string; session: ExchangeSession }>();
  const exchangeFor = async (account: AccountRecord): Promise<ExchangeSession> => {
    // IAM only lets the functions read secrets under the prefix; refusing here too gives a clear
    // error instead of an AccessDenied, and a record cannot point us at someone else's secret.
    if (!account.credentialsRef.startsWith(environment.secretPrefix)) {
      throw new CredentialsUnavailableError(
        `account ${account.accountId}: credentialsRef "${account.credentialsRef}" is not under the prefix "${environment.secretPrefix}"`,
      );
    }
    const keys = await credentials.get(account.credentialsRef);
    const baseUrl = account.exchange.baseUrl ?? environment.bybitBaseUrl;
    const cacheKey = `${account.accountId}\u0000${baseUrl}`;
    const cached = sessions.get(cacheKey);
    // A rotated key gets a new session (the credentials provider refreshes its cache on its own).
    if (cached !== undefined && cached.apiKey === keys.apiKey) return cached.session;
    const session = createBybitSession({
      baseUrl,
      apiKey: keys.apiKey,
      apiSecret: keys.apiSecret,
      category: account.exchange.category,
      settleCoins: account.exchange.settleCoins,
      ids: common.ids,
      clock: common.clock,
    });
    sessions.set(cacheKey, { apiKey: keys.apiKey, session });
    return session;
  };
  return {
    reconciler: { ...common, exchangeFor },
    deadLetters: new SqsDeadLetters(inputs.sqs, environment.deadLetterQueueUrl),
  };
}

function wireCommon(inputs: WiringInputs): Omit<ReconcilerDeps, 'exchangeFor'> {
  const { environment, dynamoDb, sqs, telemetry } = inputs;
  const clock = inputs.clock ?? systemClock;
  const ids = inputs.ids ?? randomIds;
  const table = { client: dynamoDb, tableName: environment.tableName };
  const { settings } = environment;
  return {
    clock,
    ids,
    settings,
    telemetry,
    accounts: new DynamoAccounts({
      ...table,
      clock,
      // One bad record must not stop the others; it is reported where the alarms look.
      onInvalidRecord: (error) => telemetry.log('error', error.message, { reason: 'invalid-account-record' }),
    }),
    store: new DynamoStore(table),
    cap: new DynamoCap(table, {
      perAccount: settings.capPerAccount,
      global: settings.capGlobal,
      windowMs: settings.capWindowMs,
    }),
    queue: new SqsWorkQueue({ client: sqs, queueUrl: environment.queueUrl }),
    audit: new DynamoAudit({ ...table, retentionDays: environment.auditRetentionDays, ids }),
  };
}
