import { formatIssues } from '#contracts/issues.js';
import type { SnapshotFailure } from '#core/types.js';
import { failureFromRetCode, failureFromThrown, type Redactor } from './failures.js';
import { envelopeSchema } from './schemas.js';

/** A V5 response that arrived with `retCode` 0 and a readable envelope. */
export interface BybitReply {
  readonly ok: true;
  readonly result: unknown;
  /** The exchange's clock when it answered. */
  readonly time: number;
}

export type BybitCallResult = BybitReply | { readonly ok: false; readonly failure: SnapshotFailure };

/**
 * Runs one `RestClientV5` call and never throws: HTTP errors, timeouts, thrown strings, a
 * malformed envelope and a non-zero `retCode` all come back as a typed failure. `context` names
 * the call in failure details ("GET /v5/position/list settleCoin=USDT").
 */
export async function callBybit(
  call: () => Promise<unknown>,
  context: string,
  redact: Redactor,
): Promise<BybitCallResult> {
  let raw: unknown;
  try {
    raw = await call();
  } catch (error) {
    return { ok: false, failure: failureFromThrown(error, context, redact) };
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return {
      ok: false,
      failure: {
        reason: 'schema-mismatch',
        detail: redact(
          `${context}: not a V5 response (${formatIssues(envelope.error.issues, { limit: 3 })})`,
        ),
      },
    };
  }
  const { retCode, retMsg, result, time } = envelope.data;
  if (retCode !== 0) {
    return { ok: false, failure: failureFromRetCode(retCode, retMsg, context, redact, resetAtOf(raw)) };
  }
  if (result === undefined) {
    return {
      ok: false,
      failure: { reason: 'schema-mismatch', detail: `${context}: a success without result` },
    };
  }
  if (time === undefined) {
    // Every time we report is the exchange's; a response without one cannot be placed in time.
    return { ok: false, failure: { reason: 'schema-mismatch', detail: `${context}: response without time` } };
  }
  return { ok: true, result, time };
}

/**
 * `X-Bapi-Limit-Reset-Timestamp` as `RestClientV5` parsed it (`parseAPIRateLimits: true` puts the
 * three rate-limit headers on the response as `rateLimitApi`).
 */
function resetAtOf(raw: unknown): number | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const limits = (raw as { rateLimitApi?: unknown }).rateLimitApi;
  if (limits === null || typeof limits !== 'object') return undefined;
  const resetAt = (limits as { resetAtTimestamp?: unknown }).resetAtTimestamp;
  return typeof resetAt === 'number' && Number.isFinite(resetAt) && resetAt > 0 ? resetAt : undefined;
}
