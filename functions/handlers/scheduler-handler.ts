import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseScheduleShardMessage } from '#contracts/messages.js';
import {
  type FanOutOutcome,
  MINUTE_MS,
  runScheduleFanOut,
  type SchedulerDeps,
} from '#orchestration/schedule.js';
import { runScheduleShard } from '#orchestration/schedule-shard.js';
import type { DeadLetters } from '#ports/dead-letter.js';
import { parseOrDeadLetter, type QueueRecord } from './sqs-batch.js';

export interface SchedulerFunctionDeps {
  readonly scheduler: SchedulerDeps;
  /** The scheduler queue's dead-letter queue: a malformed shard message goes there with its reason. */
  readonly deadLetters: DeadLetters;
}

/**
 * The scheduler Lambda, with two triggers: EventBridge every minute (the fan-out into shard-minutes)
 * and its own queue (one shard-minute per record: that shard's checks). It only enqueues: it holds no
 * exchange credentials and cannot cancel anything.
 */
export function createSchedulerHandler(
  getDeps: () => Promise<SchedulerFunctionDeps>,
  logger: Logger,
  metrics: Metrics,
) {
  let deps: Promise<SchedulerFunctionDeps> | undefined;
  let fanOuts = 0;
  const processor = new BatchProcessor(EventType.SQS);
  return middy(
    async (event: ScheduledEvent | SQSEvent, context: Context): Promise<FanOutOutcome | SQSBatchResponse> => {
      deps ??= getDeps();
      const resolved = await deps;
      if (isQueueEvent(event)) {
        return processPartialResponse(
          event,
          (record: SQSRecord) => handleShardRecord(resolved, record),
          processor,
          { context },
        );
      }
      // The event's scheduled time names the minutes, so a duplicate or retried event finds its claims.
      const parsed = Date.parse(event?.time ?? '');
      const scheduledAt = Number.isNaN(parsed) ? undefined : parsed;
      const minute = Math.floor((scheduledAt ?? Date.now()) / MINUTE_MS);
      // A container's first run and one an hour sweep for records a sharded listing would not see.
      const indexAccounts = fanOuts++ === 0 || minute % 60 === 0;
      return runScheduleFanOut(resolved.scheduler, scheduledAt, { indexAccounts });
    },
  )
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}

/** One shard-minute from the scheduler's queue; a malformed body is dead-lettered with its reason. */
export async function handleShardRecord(deps: SchedulerFunctionDeps, record: QueueRecord): Promise<void> {
  const { scheduler } = deps;
  const message = await parseOrDeadLetter(
    record,
    parseScheduleShardMessage,
    deps.deadLetters,
    scheduler.telemetry,
  );
  if (message === undefined) return;
  await runScheduleShard(scheduler, { minute: message.minute, shard: message.shard, shards: message.shards });
}

function isQueueEvent(event: ScheduledEvent | SQSEvent): event is SQSEvent {
  return Array.isArray((event as Partial<SQSEvent>)?.Records);
}
