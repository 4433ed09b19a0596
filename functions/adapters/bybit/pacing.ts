/**
 * Pacing one account's requests per endpoint, so that a burst (a confirmation pass after a market
 * move) waits its turn instead of running into 10006 and throwing away what it read.
 *
 * Bybit limits each UID per endpoint per rolling second (docs/v5/rate-limit/rate-limit.mdx) and says
 * where an account stands in every answer: `X-Bapi-Limit`, `X-Bapi-Limit-Status` (requests left) and
 * `X-Bapi-Limit-Reset-Timestamp`, which RestClientV5 reads into `rateLimitApi`. The pacer counts its own
 * sends against the documented limit (or the one the answers state), and believes an answer that says
 * nothing is left until the reset.
 */

/** Bybit's published per-UID limits (requests per second) for the endpoints stopguard calls. */
export const DOCUMENTED_LIMITS_PER_SECOND: Readonly<Record<BybitEndpoint, number>> = {
  '/v5/position/list': 50,
  '/v5/execution/list': 50,
  '/v5/position/closed-pnl': 50,
  '/v5/order/realtime': 50,
  '/v5/order/cancel': 10,
  '/v5/order/create': 10,
};

export type BybitEndpoint =
  | '/v5/position/list'
  | '/v5/execution/list'
  | '/v5/position/closed-pnl'
  | '/v5/order/realtime'
  | '/v5/order/cancel'
  | '/v5/order/create';

/** What an answer said about the account's budget on one endpoint. */
export interface ObservedLimit {
  readonly limit?: number;
  readonly remaining?: number;
  /** Exchange time at which the budget frees up. */
  readonly resetAt?: number;
}

export class EndpointPacer {
  private readonly sent = new Map<BybitEndpoint, number[]>();
  private readonly stated = new Map<BybitEndpoint, ObservedLimit>();

  constructor(
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
    /** Longer waits are not waited out in the call: the caller is told when to come back. */
    readonly maxWaitMs = 1_500,
  ) {}

  /** When `endpoint` may next be called (now or earlier: at once). */
  nextAt(endpoint: BybitEndpoint): number {
    const now = this.now();
    const stated = this.stated.get(endpoint);
    const limit = stated?.limit ?? DOCUMENTED_LIMITS_PER_SECOND[endpoint];
    // Booked slots may lie ahead of now: they count until a second after they go out.
    const recent = (this.sent.get(endpoint) ?? []).filter((t) => t > now - 1_000);
    this.sent.set(endpoint, recent);
    let at = now;
    // The oldest send that still counts must leave the second before another fits.
    if (recent.length >= limit) at = (recent[recent.length - limit] ?? now) + 1_000;
    if (stated?.remaining !== undefined && stated.remaining <= 0 && (stated.resetAt ?? 0) > at)
      at = stated.resetAt ?? at;
    return at;
  }

  /**
   * Takes one request on `endpoint`, waiting for it when that is at most `maxWaitMs`: undefined means
   * send now; a number is when the budget frees up, and nothing must be sent before then. The slot is
   * booked before the wait, so that requests waiting together go out one slot after another.
   */
  async take(endpoint: BybitEndpoint, maxWaitMs = this.maxWaitMs): Promise<number | undefined> {
    const at = this.nextAt(endpoint);
    const wait = at - this.now();
    if (wait > maxWaitMs) return at;
    const sent = this.sent.get(endpoint) ?? [];
    sent.push(Math.max(at, this.now()));
    this.sent.set(endpoint, sent);
    if (wait > 0) await this.sleep(wait);
    // What an earlier answer said is spent once its reset has passed.
    const stated = this.stated.get(endpoint);
    if (stated?.resetAt !== undefined && stated.resetAt <= this.now())
      this.stated.set(endpoint, stated.limit === undefined ? {} : { limit: stated.limit });
    return undefined;
  }

  /** Records what an answer said about the budget. */
  observe(endpoint: BybitEndpoint, observed: ObservedLimit): void {
    const limit =
      observed.limit !== undefined && observed.limit > 0 ? observed.limit : this.stated.get(endpoint)?.limit;
    this.stated.set(endpoint, { ...observed, ...(limit === undefined ? {} : { limit }) });
  }
}
