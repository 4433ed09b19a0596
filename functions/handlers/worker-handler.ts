import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { parseWorkMessage, type WorkMessage } from '#contracts/messages.js';
import { runCheck } from '#orchestration/check.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import type { DeadLetters } from '#ports/dead-letter.js';
import { Metric } from '#ports/telemetry.js';
import { createSqsBatchHandler, parseOrDeadLetter, type QueueRecord } from './sqs-batch.js';

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
  }
}

/**
 * One SQS record of the work queue. A malformed body (anything but a check or a confirm naming its
 * account by id) goes straight to the dead-letter queue with its reason and counts as handled. Any
 * other error is thrown: the record is reported as failed (partial batch response), SQS redelivers
 * it, and after a few receives the redrive policy moves it to the dead-letter queue.
 */
export async function handleRecord(deps: WorkerDeps, record: QueueRecord): Promise<void> {
  const { reconciler } = deps;
  const message = await parseOrDeadLetter(record, parseWorkMessage, deps.deadLetters, reconciler.telemetry);
  if (message === undefined) return;
  await inLane(deps, message.accountId, async () => {
    const started = performance.now();
    await handleWorkMessage(reconciler, message);
    reconciler.telemetry.gauge(DURATION_METRIC[message.type], performance.now() - started);
  });
}

/** Per worker: the tail of each account's work in this container. */
const lanes = new WeakMap<WorkerDeps, Map<string, Promise<unknown>>>();

/**
 * Runs an account's messages one after another within a container (a batch's records run in parallel):
 * the confirmations of positions that closed together arrive together, and the first one's pass claims
 * them all only if the others have not each claimed their own first. Other accounts go on meanwhile.
 */
async function inLane<T>(deps: WorkerDeps, accountId: string, run: () => Promise<T>): Promise<T> {
  let byAccount = lanes.get(deps);
  if (byAccount === undefined) {
    byAccount = new Map();
    lanes.set(deps, byAccount);
  }
  const mine = (byAccount.get(accountId) ?? Promise.resolve()).then(run);
  const tail = mine.catch(() => undefined);
  byAccount.set(accountId, tail);
  try {
    return await mine;
  } finally {
    if (byAccount.get(accountId) === tail) byAccount.delete(accountId);
  }
}

const DURATION_METRIC = {
  check: Metric.CheckDurationMs,
  confirm: Metric.ConfirmDurationMs,
} as const;

/** The worker Lambda: the work queue's batches. */
export function createWorkerHandler(getDeps: () => Promise<WorkerDeps>, logger: Logger, metrics: Metrics) {
  return createSqsBatchHandler(getDeps, handleRecord, logger, metrics);
}
