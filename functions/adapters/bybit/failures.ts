import type { SnapshotFailure, SnapshotFailureReason } from '#core/types.js';

/**
 * Turning whatever went wrong on a Bybit call into a typed `SnapshotFailure`. Codes from
 * bybit-exchange/docs `docs/v5/error.mdx` and `docs/v5/rate-limit/rate-limit.mdx`.
 */

/** "Too many visits. Exceeded the API Rate Limit." (per UID, per endpoint, rolling second). */
export const RATE_LIMITED = 10006;
/** System-level frequency protection. */
export const SYSTEM_RATE_LIMITED = 10429;
/** "The request time exceeds the time window range": our clock vs Bybit's, beyond recv_window. */
export const TIMESTAMP_OUT_OF_WINDOW = 10002;
/** "Server Timeout". */
export const SERVER_TIMEOUT = 10000;
/**
 * How long Bybit bans an address that exceeded its per-address limit (HTTP 403, "access too
 * frequent"): "at least 10 minutes", then lifted automatically. Without a reset time in the answer the
 * ban is taken to last this long from when it was seen.
 */
export const IP_BAN_MS = 600_000;
/** "Order does not exist" (filled, cancelled, or too late to cancel). */
export const ORDER_NOT_EXISTS = 110001;
/** "The order has been completed or cancelled." */
export const ORDER_COMPLETED_OR_CANCELLED = 110008;
/** "The order has been cancelled." */
export const ORDER_CANCELLED = 110010;

/**
 * Invalid key (10003), bad signature (10004), permission denied (10005), authentication failed
 * (10007), IP not whitelisted (10010), expired key (33004): no retry fixes these, a human must.
 */
const AUTH_CODES: ReadonlySet<number> = new Set([10003, 10004, 10005, 10007, 10010, 33004]);

/** Codes meaning "the order is not there any more": the goal of a cancel is already met. */
export const ORDER_GONE_CODES: ReadonlySet<number> = new Set([
  ORDER_NOT_EXISTS,
  ORDER_COMPLETED_OR_CANCELLED,
  ORDER_CANCELLED,
]);

/** `orderLinkId` already used on the account: the stop an earlier attempt sent is there. */
export const DUPLICATE_ORDER_LINK_ID = 110072;

/** Secrets that must never appear in a failure detail, audit line or log. */
export type Redactor = (text: string) => string;

export function redactorFor(secrets: readonly string[]): Redactor {
  const needles = secrets.filter((s) => s.length > 0);
  return (text) => needles.reduce((out, needle) => out.split(needle).join('[redacted]'), text);
}

/** Reads `X-Bapi-Limit-Reset-Timestamp` (exchange ms) from a header bag, whatever its casing. */
export function resetTimestampFrom(headers: unknown): number | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() !== 'x-bapi-limit-reset-timestamp') continue;
    const n = Number(Array.isArray(value) ? value[0] : value);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  }
  return undefined;
}

/** A non-zero `retCode` in an otherwise well-formed response. */
export function failureFromRetCode(
  retCode: number,
  retMsg: string,
  context: string,
  redact: Redactor,
  resetAt?: number,
): SnapshotFailure {
  const reason = reasonForRetCode(retCode);
  const base = `${context}: Bybit retCode ${retCode} "${retMsg}"`;
  const detail =
    reason === 'clock-skew'
      ? `${base}: the request timestamp fell outside recv_window of Bybit's clock; check NTP sync or widen recvWindowMs`
      : reason === 'auth-error'
        ? `${base}: the API key was refused (invalid, expired, wrong environment, IP or permission); fix the credentials`
        : base;
  return withRetryAt({ reason, detail: redact(detail), exchangeCode: retCode }, reason, resetAt);
}

function reasonForRetCode(retCode: number): SnapshotFailureReason {
  if (retCode === RATE_LIMITED || retCode === SYSTEM_RATE_LIMITED) return 'rate-limited';
  if (retCode === TIMESTAMP_OUT_OF_WINDOW) return 'clock-skew';
  if (AUTH_CODES.has(retCode)) return 'auth-error';
  if (retCode === SERVER_TIMEOUT) return 'timeout';
  return 'exchange-error';
}

/**
 * Anything `RestClientV5` threw. Its HTTP errors are `{ code: status, message, body, headers,
 * requestOptions }`, and `requestOptions` holds the key and secret: only picked fields are read,
 * and the detail is redacted once more for good measure.
 */
export function failureFromThrown(error: unknown, context: string, redact: Redactor): SnapshotFailure {
  if (typeof error === 'string') {
    return { reason: 'http-error', detail: redact(`${context}: ${truncate(redact(error))}`) };
  }
  if (error === null || typeof error !== 'object') {
    return { reason: 'http-error', detail: redact(`${context}: unexpected ${typeof error} thrown`) };
  }
  const e = error as Record<string, unknown>;
  const code = e.code;
  const message = typeof e.message === 'string' ? truncate(redact(e.message)) : '';
  if (isTimeout(code, message)) {
    return { reason: 'timeout', detail: redact(`${context}: no response in time (${message || code})`) };
  }
  if (typeof code === 'number')
    return failureFromHttpStatus(code, message, e.body, e.headers, context, redact);
  const label = typeof code === 'string' ? `${code} ` : '';
  return { reason: 'http-error', detail: redact(`${context}: ${label}${message || 'request failed'}`) };
}

function failureFromHttpStatus(
  status: number,
  statusText: string,
  body: unknown,
  headers: unknown,
  context: string,
  redact: Redactor,
): SnapshotFailure {
  const resetAt = resetTimestampFrom(headers);
  // Bybit sometimes answers a refused request with a non-2xx status and a V5 body: the code wins.
  if (body !== null && typeof body === 'object') {
    const { retCode, retMsg } = body as Record<string, unknown>;
    if (typeof retCode === 'number' && retCode !== 0) {
      return failureFromRetCode(
        retCode,
        typeof retMsg === 'string' ? truncate(redact(retMsg)) : '',
        `${context} (HTTP ${status})`,
        redact,
        resetAt,
      );
    }
  }
  const detail = redact(`${context}: HTTP ${status} ${statusText}`.trim());
  // 403 is Bybit's per-address limit: the whole address is banned, not this account (callBybit dates
  // a ban that names no end). 429 is its system-level frequency protection.
  if (status === 403) {
    return {
      reason: 'ip-banned',
      detail: `${detail}: the address is banned for exceeding Bybit's per-IP limit`,
      ...(resetAt === undefined ? {} : { retryAt: resetAt }),
    };
  }
  if (status === 429) return withRetryAt({ reason: 'rate-limited', detail }, 'rate-limited', resetAt);
  if (status === 401) return { reason: 'auth-error', detail };
  if (status === 504 || status === 408) return { reason: 'timeout', detail };
  return { reason: 'http-error', detail };
}

function isTimeout(code: unknown, message: string): boolean {
  return code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message);
}

function withRetryAt(
  failure: SnapshotFailure,
  reason: SnapshotFailureReason,
  resetAt: number | undefined,
): SnapshotFailure {
  return reason === 'rate-limited' && resetAt !== undefined ? { ...failure, retryAt: resetAt } : failure;
}

/** Keeps a detail short. Redact first: a secret cut in two by the limit would no longer match. */
function truncate(text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * Whether asking again later can succeed: yes for rate limits, timeouts, 5xx, network errors and
 * clock skew (often a slow request, else fixed by NTP); no for a refused key or a rejected request.
 */
export function isRetryable(failure: SnapshotFailure): boolean {
  switch (failure.reason) {
    case 'auth-error':
      return false;
    case 'exchange-error':
      // 10016: "Server error / service is restarting"; other codes reject the request itself.
      return failure.exchangeCode === 10016;
    case 'http-error':
      return !/HTTP 4\d\d/.test(failure.detail);
    default:
      return true;
  }
}
