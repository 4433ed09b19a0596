import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { runSchedule, type ScheduleOutcome } from '#orchestration/schedule.js';

/**
 * The scheduler Lambda (EventBridge, every minute): fans the minute out into per-account checks.
 * It only enqueues: it holds no exchange credentials and cannot cancel anything.
 */
export function createSchedulerHandler(
  getDeps: () => Promise<ReconcilerDeps>,
  logger: Logger,
  metrics: Metrics,
) {
  let deps: Promise<ReconcilerDeps> | undefined;
  return middy(async (event: ScheduledEvent, _context: Context): Promise<ScheduleOutcome> => {
    deps ??= getDeps();
    // The event's scheduled time names the window, so a duplicate or retried event finds its claim.
    const scheduledAt = Date.parse(event?.time ?? '');
    return runSchedule(await deps, Number.isNaN(scheduledAt) ? undefined : scheduledAt);
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
