import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

/** What every DynamoDB adapter is built from. */
export interface DynamoTableConfig {
  /** A plain client; the SDK's default (standard) retry mode handles throttling and 5xx. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/**
 * DynamoDB operations issued by one adapter instance, for cost figures: `reads` counts read requests
 * (a GetItem, each page of a Query), `writes` counts items written (a BatchWrite of 25 is 25, a
 * two-item transaction is 2). SDK-internal retries are not counted.
 */
export interface OperationCounts {
  reads: number;
  writes: number;
}

/**
 * A document client over `client`. Optional fields of domain records are left out of the item rather
 * than stored as NULL, so a record reads back exactly as it was written.
 */
export function documentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

/**
 * Runs one conditional write: true when it was applied, false when its condition did not hold; any
 * other failure is thrown. The write is counted either way (DynamoDB bills a failed condition too).
 */
export async function conditionalWrite(
  ops: OperationCounts,
  write: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  } finally {
    ops.writes++;
  }
}

/** BatchWriteItem's hard limit. */
const BATCH_WRITE_MAX = 25;
const UNPROCESSED_ATTEMPTS = 8;

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** Raised when some items of a batch write stayed unprocessed after every retry. */
export class UnprocessedWritesError extends Error {
  override readonly name = 'UnprocessedWritesError';
}

/**
 * Writes every request in chunks of 25. DynamoDB may accept a batch only in part (throttling) and hand
 * back `UnprocessedItems`: those are retried with exponential backoff and jitter, as AWS recommends;
 * the SDK's own retry does not cover them because the request as a whole succeeded.
 */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  requests: readonly WriteRequest[],
  ops: OperationCounts,
  sleep: (ms: number) => Promise<void> = defaultSleep,
): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
    chunks.push(requests.slice(i, i + BATCH_WRITE_MAX));
  }
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending: WriteRequest[] = chunk;
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= UNPROCESSED_ATTEMPTS) {
          throw new UnprocessedWritesError(
            `${pending.length} of ${chunk.length} items to ${tableName} stayed unprocessed after ${UNPROCESSED_ATTEMPTS} batch writes`,
          );
        }
        if (attempt > 0) await sleep(Math.random() * Math.min(2_000, 50 * 2 ** attempt));
        const result = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        const unprocessed = result.UnprocessedItems?.[tableName] ?? [];
        ops.writes += pending.length - unprocessed.length;
        pending = unprocessed;
      }
    }),
  );
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The per-item codes of a cancelled transaction, in TransactItems order ('None' for an item that was
 * fine). Falls back to the list in the message ("… reasons [ConditionalCheckFailed, None]") for a
 * server that leaves `CancellationReasons` out.
 */
export function cancellationCodes(error: TransactionCanceledException): string[] {
  const reasons = error.CancellationReasons;
  if (reasons !== undefined && reasons.length > 0) return reasons.map((r) => r.Code ?? 'None');
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  return listed === undefined ? [] : listed.split(',').map((code) => code.trim());
}

export function isTransactionCanceled(error: unknown): error is TransactionCanceledException {
  return (
    error instanceof TransactionCanceledException ||
    (error instanceof Error && error.name === 'TransactionCanceledException')
  );
}
