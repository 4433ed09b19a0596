import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { CapVerdict } from '#core/types.js';
import { type CancelCap, capWindowId } from '#ports/cap.js';
import {
  cancellationCodes,
  type DynamoTableConfig,
  documentClient,
  isTransactionCanceled,
  type OperationCounts,
} from './document.js';
import { DAY_MS, type ItemKey, Keys, TTL_ATTRIBUTE, ttlSeconds } from './table.js';

export interface CapLimits {
  /** Cancels per account per window. */
  readonly perAccount: number;
  /** Cancels across all accounts per window. */
  readonly global: number;
  readonly windowMs: number;
  /** Which budget: '' (cancels, the default) or 'PLACE#' (replace mode's stops). */
  readonly budget?: '' | 'PLACE#';
}

/** The cap could not be consulted (contention that did not clear): nothing may be cancelled. */
export class CapUnavailableError extends Error {
  override readonly name = 'CapUnavailableError';
}

/** Cancellation codes that say "try again", not "no". */
const CONTENTION_CODES = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);
const CONTENTION_ATTEMPTS = 10;

/**
 * The cancel cap on DynamoDB. Both counters of the window (the account's and the global one) are
 * incremented in ONE TransactWriteItems, each conditioned on its own limit, so slots come from both
 * budgets or from neither, however many workers race. A refusal names the budget that was spent.
 *
 * Concurrent transactions on the same counter can be cancelled with `TransactionConflict`, which the
 * SDK does not retry: those are retried here (bounded, with jitter) and end in `CapUnavailableError`,
 * never in a grant. The SDK's idempotency token makes its own network retries count once.
 */
export class DynamoCap implements CancelCap {
  readonly ops: OperationCounts = { reads: 0, writes: 0 };
  /** Transactions cancelled by contention and tried again: a sign of many workers cancelling at once. */
  contentionRetries = 0;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(
    config: DynamoTableConfig,
    private readonly limits: CapLimits,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.doc = documentClient(config.client);
    this.tableName = config.tableName;
  }

  async acquire(accountId: string, slots: number, now: number, accountLimit?: number): Promise<CapVerdict> {
    if (!Number.isInteger(slots) || slots < 0)
      throw new RangeError(`cap slots must be a whole number ≥ 0, got ${slots}`);
    const { global, windowMs, budget = '' } = this.limits;
    const perAccount = accountLimit ?? this.limits.perAccount;
    const windowId = capWindowId(now, windowMs);
    // More than a whole budget can never fit; the write's condition would not catch it on a new counter.
    if (slots > perAccount) return { status: 'refused', windowId, scope: 'account', limit: perAccount };
    if (slots > global) return { status: 'refused', windowId, scope: 'global', limit: global };
    if (slots === 0) return { status: 'granted', windowId, slots };

    const expiresAt = ttlSeconds((Math.floor(now / windowMs) + 1) * windowMs + DAY_MS);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              this.increment(
                Keys.capAccount(windowId, accountId, budget),
                slots,
                perAccount,
                expiresAt,
                accountId,
              ),
              this.increment(Keys.capGlobal(windowId, budget), slots, global, expiresAt, '*'),
            ],
          }),
        );
        this.ops.writes += 2;
        return { status: 'granted', windowId, slots };
      } catch (error) {
        if (!isTransactionCanceled(error)) throw error;
        this.ops.writes += 2;
        const codes = cancellationCodes(error);
        if (codes[0] === 'ConditionalCheckFailed') {
          return { status: 'refused', windowId, scope: 'account', limit: perAccount };
        }
        if (codes[1] === 'ConditionalCheckFailed') {
          return { status: 'refused', windowId, scope: 'global', limit: global };
        }
        if (!codes.some((code) => CONTENTION_CODES.has(code))) {
          throw new CapUnavailableError(`cancel cap transaction cancelled for [${codes.join(', ')}]`, {
            cause: error,
          });
        }
        if (attempt >= CONTENTION_ATTEMPTS) {
          throw new CapUnavailableError(
            `cancel cap for ${accountId} still contended after ${attempt} attempts [${codes.join(', ')}]`,
            { cause: error },
          );
        }
        this.contentionRetries++;
        await this.sleep(Math.random() * Math.min(1_000, 25 * 2 ** attempt));
      }
    }
  }

  /** `ADD` creates the counter at `slots`, or adds to it while `limit - slots` still fits. */
  private increment(key: ItemKey, slots: number, limit: number, expiresAt: number, scope: string) {
    return {
      Update: {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #ttl = :ttl, #scope = :scope ADD #count :n',
        ConditionExpression: 'attribute_not_exists(#count) OR #count <= :room',
        ExpressionAttributeNames: { '#count': 'count', '#ttl': TTL_ATTRIBUTE, '#scope': 'scope' },
        ExpressionAttributeValues: {
          ':n': slots,
          ':room': limit - slots,
          ':ttl': expiresAt,
          ':scope': scope,
        },
      },
    };
  }
}
