/**
 * Stopguard's SQS queues and how its functions consume them: the work queue and the bot's register
 * queue, each with its own dead-letter queue, and the SQS event sources that feed the functions.
 * Every queue is created in the scope it is given (the Stopguard construct), so its logical id is the
 * construct's and not that of some intermediate construct.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledge.js';
import type { StopguardFunction } from './stopguard-function.js';

/** Margin on the visibility timeout for clock differences between SQS and the worker. */
const VISIBILITY_MARGIN = Duration.seconds(10);

export interface StopguardQueues {
  /** stopguard's own queue (checks, confirms). */
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The bot's ingress: `register` messages only. */
  readonly registerQueue: Queue;
  readonly registerDeadLetterQueue: Queue;
  /** The scheduler's own queue: shard-minutes from its fan-out to its shard runs. */
  readonly scheduleQueue: Queue;
  readonly scheduleDeadLetterQueue: Queue;
}

export interface StopguardQueuesOptions {
  /** The worker function's timeout: a message must stay hidden for at least one whole invocation. */
  readonly workerTimeout: Duration;
  /** How long the worker holds a confirmation claim (`ReconcileSettings.claimLeaseMs`). */
  readonly claimLeaseMs: number;
  /** The register function's timeout. */
  readonly registerTimeout: Duration;
  /** The scheduler function's timeout (a shard run). */
  readonly schedulerTimeout: Duration;
}

/**
 * Creates the six queues in `scope` with the ids `DeadLetterQueue`, `WorkQueue`,
 * `RegisterDeadLetterQueue`, `RegisterQueue`, `ScheduleDeadLetterQueue` and `ScheduleQueue`. Throws if the claim lease is too short for the
 * worker's timeout.
 */
export function createQueues(scope: Construct, options: StopguardQueuesOptions): StopguardQueues {
  const deadLetterQueue = createDeadLetterQueue(scope, 'DeadLetterQueue');

  // The visibility timeout must cover a whole worker invocation AND the claim lease. A worker may claim
  // a suspect as late as the end of its run, and the claim is held for `claimLeaseMs` after that. If
  // the worker dies, the message must reappear only after that lease has run out: a redelivery that
  // arrives earlier finds the suspect still claimed, takes it for a duplicate and does nothing, and the
  // confirmation is lost until a later check notices it is overdue. (It also keeps a still-running
  // invocation from being handed the same message twice.)
  // A lease shorter than a worker's run would let a redelivery retake a confirmation still running.
  const { workerTimeout, claimLeaseMs, registerTimeout } = options;
  if (claimLeaseMs < workerTimeout.toMilliseconds() + VISIBILITY_MARGIN.toMilliseconds()) {
    throw new Error(
      `claimLease (${claimLeaseMs} ms) must outlast a worker invocation (timeout ${workerTimeout.toSeconds()} s) plus ${VISIBILITY_MARGIN.toSeconds()} s`,
    );
  }
  const visibilityTimeout = Duration.seconds(
    Math.ceil(workerTimeout.toSeconds() + claimLeaseMs / 1000 + VISIBILITY_MARGIN.toSeconds()),
  );
  const queue = new Queue(scope, 'WorkQueue', {
    visibilityTimeout,
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // A message failing three times in a row (exchange down, a bug) is parked for a person to look at.
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 3 },
  });

  const registerDeadLetterQueue = createDeadLetterQueue(scope, 'RegisterDeadLetterQueue');
  const registerQueue = new Queue(scope, 'RegisterQueue', {
    // Six times the function timeout, as Lambda recommends for SQS sources: room for retries of a
    // throttled batch before a message becomes visible again.
    visibilityTimeout: Duration.seconds(registerTimeout.toSeconds() * 6),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Rejected and malformed registrations are dead-lettered by the function itself, with a reason;
    // the redrive catches those that failed three times (table unavailable, a bug).
    deadLetterQueue: { queue: registerDeadLetterQueue, maxReceiveCount: 3 },
  });

  const scheduleDeadLetterQueue = createDeadLetterQueue(scope, 'ScheduleDeadLetterQueue');
  const scheduleQueue = new Queue(scope, 'ScheduleQueue', {
    // Hidden for one run and no longer: a shard-minute that failed is worth retrying only while its
    // minute lasts (the run skips slots already past).
    visibilityTimeout: Duration.seconds(options.schedulerTimeout.toSeconds() + VISIBILITY_MARGIN.toSeconds()),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    deadLetterQueue: { queue: scheduleDeadLetterQueue, maxReceiveCount: 3 },
  });

  return {
    queue,
    deadLetterQueue,
    registerQueue,
    registerDeadLetterQueue,
    scheduleQueue,
    scheduleDeadLetterQueue,
  };
}

/** A dead-letter queue: kept 14 days, encrypted, TLS only. */
function createDeadLetterQueue(scope: Construct, id: string): Queue {
  const queue = new Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  acknowledge(
    queue,
    'Serverless-SQSRedrivePolicy',
    'This is the end of the line: a dead-letter queue is read by a person (its alarm says so) and ' +
      'redriven by hand; a redrive policy on it would move dead letters out of sight.',
  );
  return queue;
}

/**
 * An SQS event source with partial batch responses: one failing record is retried alone, the rest of
 * its batch is not redelivered, and after three receives the queue's redrive policy parks it.
 */
export function feedFromQueue(
  fn: StopguardFunction,
  queue: Queue,
  options: { batchSize: number; maxConcurrency: number },
): void {
  fn.function.addEventSource(new SqsEventSource(queue, { ...options, reportBatchItemFailures: true }));
  acknowledge(
    fn,
    'Serverless-LambdaEventSourceMappingDestination',
    'On-failure destinations exist for stream and Kafka event sources, not for SQS: a record that ' +
      "keeps failing goes to the source queue's dead-letter queue (redrive policy, alarmed).",
  );
  acknowledge(
    fn,
    'Serverless-LambdaDLQ',
    "A function's dead-letter target only receives failed asynchronous invocations; this one is " +
      "invoked synchronously by its SQS event source, whose queue's redrive policy is the dead-letter queue.",
  );
}
