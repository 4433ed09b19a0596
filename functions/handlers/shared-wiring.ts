import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoAccounts } from '#adapters/dynamodb/dynamo-accounts.js';
import { DynamoAudit } from '#adapters/dynamodb/dynamo-audit.js';
import { DynamoCap } from '#adapters/dynamodb/dynamo-cap.js';
import { DynamoFleetGuard } from '#adapters/dynamodb/dynamo-fleet.js';
import { DynamoStore } from '#adapters/dynamodb/dynamo-store.js';
import { SqsWorkQueue } from '#adapters/sqs/sqs-queue.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { type Clock, systemClock } from '#ports/clock.js';
import { fleetBudgetOf } from '#ports/fleet.js';
import { type IdSource, randomIds } from '#ports/ids.js';
import { type Random, systemRandom } from '#ports/random.js';
import type { Telemetry } from '#ports/telemetry.js';
import { EnvVar, type FunctionEnvironment, required } from './environment.js';

/**
 * What the three functions' wirings share. Each function has a wiring of its own (scheduler-, worker-,
 * register-wiring.ts) so that its bundle carries only what it uses: the scheduler's and the register
 * function's bundles hold no exchange client at all (smaller, faster to start, and nothing in them
 * could cancel an order).
 */

/** What differs between AWS and the local pipeline: the clients, the vault, the sinks. The wiring is shared. */
export interface WiringInputs {
  readonly environment: FunctionEnvironment;
  readonly dynamoDb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly telemetry: Telemetry;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  readonly random?: Random;
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
    random: inputs.random ?? systemRandom,
    settings,
    cap: new DynamoCap(table, {
      perAccount: settings.capPerAccount,
      global: settings.capGlobal,
      windowMs: settings.capWindowMs,
    }),
    placementCap: new DynamoCap(table, {
      perAccount: settings.placementCapPerAccount,
      global: settings.placementCapGlobal,
      windowMs: settings.capWindowMs,
      budget: 'PLACE#',
    }),
    fleet: new DynamoFleetGuard(table, fleetBudgetOf(settings.fleetRequestsPer5s)),
    queue: new SqsWorkQueue({ client: sqs, queueUrl }),
    audit: new DynamoAudit({ ...table, retentionDays: environment.auditRetentionDays, ids: base.ids }),
  };
}

/** What every function reads and writes in the table: account records and the reconciliation store. */
export function wireTable(
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
