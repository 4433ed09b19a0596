import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAccounts } from '../adapters/dynamodb/dynamo-accounts.js';
import { DynamoAudit } from '../adapters/dynamodb/dynamo-audit.js';
import { DynamoCap } from '../adapters/dynamodb/dynamo-cap.js';
import { DynamoStore } from '../adapters/dynamodb/dynamo-store.js';
import { SqsWorkQueue } from '../adapters/sqs/sqs-queue.js';
import type { ReconcilerDeps } from '../orchestration/dependencies.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type IdSource, randomIds } from '../ports/ids.js';
import type { Telemetry } from '../ports/telemetry.js';
import type { FunctionEnvironment } from './environment.js';

/**
 * Kept apart from the worker's wiring on purpose: the scheduler's bundle then carries no exchange
 * client at all (smaller, faster cold start, and nothing in it could cancel an order).
 */

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

/** Everything but the exchange: shared by both functions (the worker's wiring is in worker-wiring.ts). */
export function wireCommon(inputs: WiringInputs): Omit<ReconcilerDeps, 'exchangeFor'> {
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
