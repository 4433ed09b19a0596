import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { parseIngressMessage } from '#contracts/messages.js';
import { type RegisterDeps, runRegister, runUnregister } from '#orchestration/register.js';
import type { DeadLetters } from '#ports/dead-letter.js';
import { Metric } from '#ports/telemetry.js';
import { createSqsBatchHandler, deadLetter, parseOrDeadLetter, type QueueRecord } from './sqs-batch.js';

export interface RegisterHandlerDeps {
  readonly register: RegisterDeps;
  /** The ingress's own dead-letter queue: what the bot sent that stopguard will not act on. */
  readonly deadLetters: DeadLetters;
}

/**
 * One record of the bot's ingress queue. Only the bot's messages (register, unregister) are accepted
 * there: a check, a confirm or anything else is malformed on this queue and goes to its dead-letter queue with the reason, as does
 * a registration stopguard refuses (unknown or disabled account, a symbol outside the account's
 * market, a fill time in the future). Nothing else reaches the work queue from here.
 */
export async function handleRegisterRecord(deps: RegisterHandlerDeps, record: QueueRecord): Promise<void> {
  const { telemetry } = deps.register;
  const message = await parseOrDeadLetter(record, parseIngressMessage, deps.deadLetters, telemetry);
  if (message === undefined) return;
  const started = performance.now();
  const outcome =
    message.type === 'register'
      ? await runRegister(deps.register, message)
      : await runUnregister(deps.register, message);
  telemetry.gauge(Metric.RegisterDurationMs, performance.now() - started);
  if (outcome.status === 'rejected') {
    telemetry.count(Metric.RegistrationsRejected);
    await deadLetter(record, outcome.reason, deps.deadLetters, telemetry, 'rejected');
  }
}

/** The register Lambda: the bot's ingress queue. */
export function createRegisterHandler(
  getDeps: () => Promise<RegisterHandlerDeps>,
  logger: Logger,
  metrics: Metrics,
) {
  return createSqsBatchHandler(getDeps, handleRegisterRecord, logger, metrics);
}
