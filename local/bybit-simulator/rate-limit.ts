/** Bybit's per-endpoint rate limits, enforced per account on the simulator clock. */

import type { PrivateEndpoint } from './faults.js';

/** Bybit's published per-UID, per-endpoint limits (requests per rolling second) for these paths. */
export const BYBIT_LIMITS_PER_SECOND: Readonly<Record<PrivateEndpoint, number>> = {
  '/v5/position/list': 50,
  '/v5/execution/list': 50,
  '/v5/position/closed-pnl': 50,
  '/v5/order/history': 50,
  '/v5/order/realtime': 50,
  '/v5/order/cancel': 10,
  '/v5/order/create': 10,
};

/** What goes into the `X-Bapi-Limit*` headers. */
export interface RateLimitStatus {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** When a refused caller may retry; the current time when not limited (as Bybit does). */
  readonly resetAt: number;
}

/**
 * A rolling one-second window per account and endpoint, on the simulator clock. `perSecond` overrides
 * every endpoint's limit; 0 or Infinity turns limiting off (headers still show Bybit's nominal limit).
 */
export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly perSecond?: number) {}

  take(accountId: string, endpoint: PrivateEndpoint, now: number): RateLimitStatus {
    const limit = this.limitFor(endpoint);
    const key = `${accountId}\u0000${endpoint}`;
    const window = (this.windows.get(key) ?? []).filter((t) => t > now - 1000 && t <= now);
    this.windows.set(key, window);
    if (!Number.isFinite(limit)) {
      const nominal = BYBIT_LIMITS_PER_SECOND[endpoint];
      return { allowed: true, limit: nominal, remaining: nominal, resetAt: now };
    }
    if (window.length >= limit) {
      return { allowed: false, limit, remaining: 0, resetAt: (window[0] ?? now) + 1000 };
    }
    window.push(now);
    return { allowed: true, limit, remaining: limit - window.length, resetAt: now };
  }

  /** The current state without using up a request (for answers refused before they count, e.g. bad signatures). */
  peek(accountId: string, endpoint: PrivateEndpoint, now: number): RateLimitStatus {
    const limit = this.limitFor(endpoint);
    if (!Number.isFinite(limit)) return this.take(accountId, endpoint, now);
    const used = (this.windows.get(`${accountId}\u0000${endpoint}`) ?? []).filter(
      (t) => t > now - 1000 && t <= now,
    );
    return { allowed: used.length < limit, limit, remaining: Math.max(0, limit - used.length), resetAt: now };
  }

  /** Headers for an injected 10006: the window looks full until a second from now. */
  exhausted(endpoint: PrivateEndpoint, now: number): RateLimitStatus {
    const limit = this.limitFor(endpoint);
    const shown = Number.isFinite(limit) ? limit : BYBIT_LIMITS_PER_SECOND[endpoint];
    return { allowed: false, limit: shown, remaining: 0, resetAt: now + 1000 };
  }

  private limitFor(endpoint: PrivateEndpoint): number {
    if (this.perSecond === undefined) return BYBIT_LIMITS_PER_SECOND[endpoint];
    return this.perSecond === 0 ? Number.POSITIVE_INFINITY : this.perSecond;
  }
}
