import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { runCheck } from '../orchestration/check.js';
import { runConfirm } from '../orchestration/confirm.js';
import type { ReconcilerDeps } from '../orchestration/dependencies.js';
import { MalformedMessageError, parseWorkMessage, type WorkMessage } from '../orchestration/messages.js';
import { runRegister } from '../orchestration/register.js';
import type { DeadLetters } from '../ports/dead-letter.js';
import { Metric } from '../ports/telemetry.js';

export interface WorkerDeps {
  readonly reconciler: ReconcilerDeps;
  readonly deadLetters: DeadLetters;
}

/** Runs one work message through the orchestration. */
export function handleWorkMessage(deps: ReconcilerDeps, message: WorkMessage): Promise<unknown> {
  switch (message.type) {
    case 'check':
      return runCheck(deps, message);
    case 'confirm':
      return runConfirm(deps, message);
    case 'register':
      return runRegister(deps, message);
  }
}

/**
 * One SQS record. A malformed body can never succeed, so it goes straight to the dead-letter queue
 * with its reason and counts as handled. Any other error is thrown: the record is reported as failed
 * (partial batch response), SQS redelivers it, and after a few receives the redrive policy moves it
 * to the dead-letter queue.
 */
export async function handleRecord(
  deps: WorkerDeps,
  record: Pick<SQSRecord, 'body' | 'messageId'>,
): Promise<void> {
  let message: WorkMessage;
  try {
    message = parseWorkMessage(record.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    deps.reconciler.telemetry.log(
      'error',
      `dead-lettered malformed message ${record.messageId}: ${error.reason}`,
      {
        messageId: record.messageId,
        reason: error.reason,
      },
    );
    await deps.deadLetters.send(record.body, error.reason);
    return;
  }
  const started = performance.now();
  await handleWorkMessage(deps.reconciler, message);
  deps.reconciler.telemetry.gauge(DURATION_METRIC[message.type], performance.now() - started);
}

const DURATION_METRIC = {
  check: Metric.CheckDurationMs,
  confirm: Metric.ConfirmDurationMs,
  register: Metric.RegisterDurationMs,
} as const;

/**
 * The worker Lambda: SQS batches with partial batch failure reporting, Powertools logger and metrics
 * through middy. `getDeps` is called once per container, on the first invocation.
 */
export function createWorkerHandler(getDeps: () => Promise<WorkerDeps>, logger: Logger, metrics: Metrics) {
  let deps: Promise<WorkerDeps> | undefined;
  const processor = new BatchProcessor(EventType.SQS);
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    deps ??= getDeps();
    const resolved = await deps;
    return processPartialResponse(event, (record: SQSRecord) => handleRecord(resolved, record), processor, {
      context,
    });
  })
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
