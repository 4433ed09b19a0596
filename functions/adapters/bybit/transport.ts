import type * as z from 'zod';
import { formatIssues } from '#contracts/issues.js';
import type { SnapshotFailure } from '#core/types.js';
import { failureFromRetCode, failureFromThrown, IP_BAN_MS, type Redactor } from './failures.js';
import type { BybitEndpoint, EndpointPacer, ObservedLimit } from './pacing.js';
import type { PageResult } from './pagination.js';
import { envelopeSchema, listResultSchema } from './schemas.js';

/** A V5 response that arrived with `retCode` 0 and a readable envelope. */
export interface BybitReply {
  readonly ok: true;
  readonly result: unknown;
  /** The exchange's clock when it answered. */
  readonly time: number;
  /** The account's budget on this endpoint, as the answer's `X-Bapi-Limit*` headers stated it. */
  readonly limits?: ObservedLimit;
}

export type BybitCallResult = BybitReply | { readonly ok: false; readonly failure: SnapshotFailure };

/**
 * Runs one `RestClientV5` call and never throws: HTTP errors, timeouts, thrown strings, a
 * malformed envelope and a non-zero `retCode` all come back as a typed failure. `context` names
 * the call in failure details ("GET /v5/position/list settleCoin=USDT"). `now` dates an address ban
 * whose answer named no end.
 */
export async function callBybit(
  call: () => Promise<unknown>,
  context: string,
  redact: Redactor,
  now: () => number = Date.now,
): Promise<BybitCallResult> {
  let raw: unknown;
  try {
    raw = await call();
  } catch (error) {
    const failure = failureFromThrown(error, context, redact);
    if (failure.reason === 'ip-banned' && failure.retryAt === undefined)
      return { ok: false, failure: { ...failure, retryAt: now() + IP_BAN_MS } };
    return { ok: false, failure };
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
    return {
      ok: false,
      failure: failureFromRetCode(retCode, retMsg, context, redact, limitsOf(raw).resetAt),
    };
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
  const limits = limitsOf(raw);
  return { ok: true, result, time, ...(Object.keys(limits).length === 0 ? {} : { limits }) };
}

/**
 * The three `X-Bapi-Limit*` headers as `RestClientV5` parsed them (`parseAPIRateLimits: true` puts
 * them on the response as `rateLimitApi`); whatever is missing or not a positive number is left out.
 */
function limitsOf(raw: unknown): ObservedLimit {
  if (raw === null || typeof raw !== 'object') return {};
  const limits = (raw as { rateLimitApi?: unknown }).rateLimitApi;
  if (limits === null || typeof limits !== 'object') return {};
  const { maxRequests, remainingRequests, resetAtTimestamp } = limits as Record<string, unknown>;
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  const limit = count(maxRequests);
  const remaining = count(remainingRequests);
  const resetAt = count(resetAtTimestamp);
  return {
    ...(limit === undefined || limit === 0 ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetAt === undefined || resetAt === 0 ? {} : { resetAt }),
  };
}

/** Reads one page of a list endpoint; entries are validated one by one so valid ones survive a bad one. */
export async function readListPage<S extends z.ZodType>(
  send: () => Promise<BybitCallResult>,
  context: string,
  entrySchema: S,
  redact: Redactor,
): Promise<PageResult<z.output<S>>> {
  const reply = await send();
  if (!reply.ok) return reply;
  const list = listResultSchema.safeParse(reply.result);
  if (!list.success) {
    return {
      ok: false,
      failure: {
        reason: 'schema-mismatch',
        detail: redact(`${context}: ${formatIssues(list.error.issues, { limit: 3 })}`),
      },
    };
  }
  const items: z.output<S>[] = [];
  let firstBad: { readonly index: number; readonly error: z.ZodError } | undefined;
  for (const [index, raw] of list.data.list.entries()) {
    const entry = entrySchema.safeParse(raw);
    if (entry.success) items.push(entry.data);
    else firstBad ??= { index, error: entry.error };
  }
  if (firstBad !== undefined) {
    const { index, error } = firstBad;
    const issues = error.issues.map((i) => ({ ...i, path: ['list', index, ...i.path] }));
    return {
      ok: false,
      items,
      failure: {
        reason: 'schema-mismatch',
        detail: redact(`${context}: ${formatIssues(issues, { limit: 3 })}`),
      },
    };
  }
  return { ok: true, items, nextCursor: list.data.nextPageCursor, time: reply.time };
}

/**
 * One paced request. A read waits for its endpoint's budget (at most the pacer's longest wait), and
 * a 10006 whose reset is that near is waited out and the same request (the same page) asked again,
 * up to twice, so that the pages a listing has read survive it. A cancel never waits and is never
 * resent: it must follow its position's last look at once, so one that finds no budget fails unsent
 * and the next pass looks again before trying.
 */
export function pacedSender(
  pacer: EndpointPacer,
  redact: Redactor,
  now: () => number,
): (endpoint: BybitEndpoint, call: () => Promise<unknown>, context: string) => Promise<BybitCallResult> {
  return async function send(
    endpoint: BybitEndpoint,
    call: () => Promise<unknown>,
    context: string,
  ): Promise<BybitCallResult> {
    // Writes neither wait nor go out twice: they follow a look, and a wait would widen that window.
    const waits = endpoint !== '/v5/order/cancel' && endpoint !== '/v5/order/create';
    for (let attempt = 1; ; attempt++) {
      const later = await pacer.take(endpoint, waits ? pacer.maxWaitMs : 0);
      if (later !== undefined) {
        return {
          ok: false,
          failure: {
            reason: 'rate-limited',
            detail: `${context}: not sent, the account's ${endpoint} budget is spent until ${new Date(later).toISOString()}`,
            retryAt: later,
          },
        } as const;
      }
      const reply = await callBybit(call, context, redact, now);
      if (reply.ok) {
        if (reply.limits !== undefined) pacer.observe(endpoint, reply.limits);
        return reply;
      }
      const { reason, retryAt } = reply.failure;
      if (reason !== 'rate-limited' || retryAt === undefined) return reply;
      pacer.observe(endpoint, { remaining: 0, resetAt: retryAt });
      if (!waits || attempt >= 3 || retryAt - now() > pacer.maxWaitMs) return reply;
    }
  };
}
