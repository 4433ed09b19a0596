import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { MalformedMessageError } from '#contracts/messages.js';
import type { DeadLetters } from '#ports/dead-letter.js';
import type { Telemetry } from '#ports/telemetry.js';

/** The part of an SQS record a handler reads. */
export type QueueRecord = Pick<SQSRecord, 'body' | 'messageId'>;

/**
 * An SQS-driven Lambda handler: partial batch responses, Powertools logger and metrics through middy.
 * `handleRecord` throws to mark its record failed (SQS redelivers it, then the redrive policy parks it);
 * `getDeps` is called once per container, on the first invocation.
 */
export function createSqsBatchHandler<D>(
  getDeps: () => Promise<D>,
  handleRecord: (deps: D, record: QueueRecord) => Promise<void>,
  logger: Logger,
  metrics: Metrics,
) {
  let deps: Promise<D> | undefined;
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

/**
 * Parses a record's body, or sends it to the dead-letter queue with the reason and returns undefined:
 * a malformed body can never succeed, so retrying it would only delay the same verdict.
 */
export async function parseOrDeadLetter<M>(
  record: QueueRecord,
  parse: (body: string) => M,
  deadLetters: DeadLetters,
  telemetry: Telemetry,
): Promise<M | undefined> {
  try {
    return parse(record.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    await deadLetter(record, error.reason, deadLetters, telemetry, 'malformed');
    return undefined;
  }
}

/** Parks a record that can never succeed, with its reason, and says so at error level. */
export async function deadLetter(
  record: QueueRecord,
  reason: string,
  deadLetters: DeadLetters,
  telemetry: Telemetry,
  what: 'malformed' | 'rejected',
): Promise<void> {
  telemetry.log('error', `dead-lettered ${what} message ${record.messageId}: ${reason}`, {
    messageId: record.messageId,
    reason,
  });
  await deadLetters.send(record.body, reason);
}
