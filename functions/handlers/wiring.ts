import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { bybitMarketRules } from '../adapters/bybit/symbols.js';
import { DynamoAccounts } from '../adapters/dynamodb/dynamo-accounts.js';
import { DynamoAudit } from '../adapters/dynamodb/dynamo-audit.js';
import { DynamoCap } from '../adapters/dynamodb/dynamo-cap.js';
import { DynamoStore } from '../adapters/dynamodb/dynamo-store.js';
import { SqsDeadLetters } from '../adapters/sqs/sqs-dead-letters.js';
import { SqsWorkQueue } from '../adapters/sqs/sqs-queue.js';
import type { ReconcilerDeps } from '../orchestration/dependencies.js';
import { type Clock, systemClock } from '../ports/clock.js';
import { type IdSource, randomIds } from '../ports/ids.js';
import type { Telemetry } from '../ports/telemetry.js';
import { EnvVar, type FunctionEnvironment, required } from './environment.js';
import type { RegisterHandlerDeps } from './register-handler.js';

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

/**
 * The register function's dependencies: account records to validate against, the ledger and suspects
 * to write, Bybit's instrument naming, and the ingress's own dead-letter queue. No exchange, no work
 * queue, no cap: the bot's ingress can only add to what stopguard tracks.
 */
export function wireRegister(inputs: WiringInputs): RegisterHandlerDeps {
  const { environment, sqs } = inputs;
  const deadLetterQueueUrl = required(
    environment.registerDeadLetterQueueUrl,
    EnvVar.registerDeadLetterQueueUrl,
    'the register function',
  );
  return {
    register: { ...wireTable(inputs), market: bybitMarketRules },
    deadLetters: new SqsDeadLetters(sqs, deadLetterQueueUrl),
  };
}

/** Everything but the exchange: shared by the scheduler and the worker (whose own wiring is in worker-wiring.ts). */
export function wireCommon(inputs: WiringInputs): Omit<ReconcilerDeps, 'exchangeFor'> {
  const { environment, dynamoDb, sqs } = inputs;
  const base = wireTable(inputs);
  const table = { client: dynamoDb, tableName: environment.tableName };
  const { settings } = environment;
  const queueUrl = required(environment.queueUrl, EnvVar.queueUrl, 'the scheduler and the worker');
  return {
    ...base,
    settings,
    cap: new DynamoCap(table, {
      perAccount: settings.capPerAccount,
      global: settings.capGlobal,
      windowMs: settings.capWindowMs,
    }),
    queue: new SqsWorkQueue({ client: sqs, queueUrl }),
    audit: new DynamoAudit({ ...table, retentionDays: environment.auditRetentionDays, ids: base.ids }),
  };
}

/** What every function reads and writes in the table: account records and the reconciliation store. */
function wireTable(
  inputs: WiringInputs,
): Pick<ReconcilerDeps, 'clock' | 'ids' | 'telemetry' | 'accounts' | 'store'> {
  const { environment, dynamoDb, telemetry } = inputs;
  const clock = inputs.clock ?? systemClock;
  const table = { client: dynamoDb, tableName: environment.tableName };
  return {
    clock,
    ids: inputs.ids ?? randomIds,
    telemetry,
    accounts: new DynamoAccounts({
      ...table,
      clock,
      // One bad record must not stop the others; it is reported where the alarms look.
      onInvalidRecord: (error) => telemetry.log('error', error.message, { reason: 'invalid-account-record' }),
    }),
    store: new DynamoStore(table),
  };
}
