import { DynamoScheduleClaims } from '#adapters/dynamodb/dynamo-schedule.js';
import { SqsDeadLetters } from '#adapters/sqs/sqs-dead-letters.js';
import { SqsShardQueue } from '#adapters/sqs/sqs-queue.js';
import { EnvVar, required } from './environment.js';
import type { SchedulerFunctionDeps } from './scheduler-handler.js';
import { type WiringInputs, wireCommon } from './shared-wiring.js';

/**
 * The scheduler's dependencies: account records, the fleet's pause, its shard-minute claims, its own
 * queue and the work queue. No exchange access and no credentials at all: nothing it is wired with
 * could cancel anything.
 */
export function wireScheduler(inputs: WiringInputs): SchedulerFunctionDeps {
  const { environment, dynamoDb, sqs } = inputs;
  const common = wireCommon(inputs);
  const whose = 'the scheduler';
  return {
    scheduler: {
      clock: common.clock,
      accounts: common.accounts,
      queue: common.queue,
      fleet: common.fleet,
      telemetry: common.telemetry,
      settings: common.settings,
      claims: new DynamoScheduleClaims({
        client: dynamoDb,
        tableName: environment.tableName,
        clock: common.clock,
      }),
      shardQueue: new SqsShardQueue({
        client: sqs,
        queueUrl: required(environment.scheduleQueueUrl, EnvVar.scheduleQueueUrl, whose),
      }),
      shards: environment.scheduleShards,
    },
    deadLetters: new SqsDeadLetters(
      sqs,
      required(environment.scheduleDeadLetterQueueUrl, EnvVar.scheduleDeadLetterQueueUrl, whose),
    ),
  };
}
