import Big from 'big.js';
import type { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import { formatIssues } from '#contracts/issues.js';
import type { SnapshotFailure } from '#core/types.js';
import type { Redactor } from './failures.js';
import { type BybitInstrument, instrumentEntrySchema, listResultSchema } from './schemas.js';
import { callBybit } from './transport.js';

/**
 * An instrument's price rules, from Bybit's public `GET /v5/market/instruments-info`: the tick every
 * order price must be a multiple of, and the range it must fall in. The core rounds a stop's trigger
 * to the entry price's decimals, not to the tick (a position's `avgPrice` carries many), so the stop
 * is rounded here before it is sent.
 */

/** How long a symbol's price rules are trusted: Bybit changes a tick rarely, and announces it first. */
export const PRICE_FILTER_TTL_MS = 3_600_000;

export type PriceFilter = BybitInstrument['priceFilter'];

export type PriceFilterLookup =
  | { readonly ok: true; readonly filter: PriceFilter }
  | { readonly ok: false; readonly failure: SnapshotFailure };

/** One session's price rules per symbol, read at most once an hour each. Never throws. */
export interface PriceFilters {
  of(symbol: string): Promise<PriceFilterLookup>;
  /** Drops what is kept of `symbol`: the venue refused a price put on it (its tick may have changed). */
  forget(symbol: string): void;
}

/**
 * The cache lives as long as its session (one per account per container). Only answers that validate
 * are kept: a failed read is tried again by the next placement. Concurrent asks share one request.
 *
 * The read goes through `callBybit` (same failures, envelope checks and redaction as every call) but
 * not through the session's pacer: the pacer keeps the account's per-UID budget of each private
 * endpoint, and market endpoints are public, unsigned and limited per IP only (600 per 5 s), a limit
 * one request per symbol an hour does not approach.
 */
export function priceFilterCache(
  client: RestClientV5,
  category: 'linear' | 'inverse',
  redact: Redactor,
  now: () => number,
  ttlMs = PRICE_FILTER_TTL_MS,
): PriceFilters {
  const kept = new Map<string, { readonly filter: PriceFilter; readonly at: number }>();
  const reading = new Map<string, Promise<PriceFilterLookup>>();

  async function read(symbol: string): Promise<PriceFilterLookup> {
    const context = `GET /v5/market/instruments-info category=${category} symbol=${symbol}`;
    const reply = await callBybit(
      () => client.getInstrumentsInfo({ category, symbol }),
      context,
      redact,
      now,
    );
    if (!reply.ok) return reply;
    const list = listResultSchema.safeParse(reply.result);
    const entry = list.success
      ? list.data.list.find(
          (e) => typeof e === 'object' && e !== null && 'symbol' in e && e.symbol === symbol,
        )
      : undefined;
    if (!list.success || entry === undefined) {
      const why = list.success
        ? 'lists no such trading instrument'
        : formatIssues(list.error.issues, { limit: 3 });
      return {
        ok: false,
        failure: {
          reason: list.success ? 'exchange-error' : 'schema-mismatch',
          detail: redact(`${context}: ${why}`),
        },
      };
    }
    const parsed = instrumentEntrySchema.safeParse(entry);
    if (!parsed.success) {
      const detail = `${context}: ${formatIssues(parsed.error.issues, { limit: 3 })}`;
      return { ok: false, failure: { reason: 'schema-mismatch', detail: redact(detail) } };
    }
    return { ok: true, filter: parsed.data.priceFilter };
  }

  return {
    forget(symbol: string): void {
      kept.delete(symbol);
    },
    of(symbol: string): Promise<PriceFilterLookup> {
      const hit = kept.get(symbol);
      if (hit !== undefined && now() - hit.at < ttlMs)
        return Promise.resolve({ ok: true, filter: hit.filter });
      let pending = reading.get(symbol);
      if (pending === undefined) {
        pending = read(symbol).then((lookup) => {
          reading.delete(symbol);
          if (lookup.ok) kept.set(symbol, { filter: lookup.filter, at: now() });
          return lookup;
        });
        reading.set(symbol, pending);
      }
      return pending;
    },
  };
}

const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/**
 * `price` on the instrument's tick, rounded away from the market so that a stop never moves closer to
 * it: `down` for a long's stop (a sell triggered below the market), `up` for a short's. Exact decimal
 * arithmetic; a price already on the tick comes back as it was written, any other with the tick's
 * decimals ("57105.67283" on a tick of "0.10" is "57105.60" down). Refused when the result falls
 * outside the instrument's [minPrice, maxPrice].
 */
export function priceOnTick(
  price: string,
  filter: PriceFilter,
  away: 'down' | 'up',
): { readonly ok: true; readonly price: string } | { readonly ok: false; readonly detail: string } {
  const exact = new Big(price);
  const tick = new Big(filter.tickSize);
  const below = exact.minus(exact.mod(tick));
  const onTick = below.eq(exact) || away === 'down' ? below : below.plus(tick);
  const decimals = filter.tickSize.split('.')[1]?.length ?? 0;
  const written = onTick.eq(exact) && PLAIN_DECIMAL.test(price) ? price : onTick.toFixed(decimals);
  const tickWords = `${price} on the tick ${filter.tickSize}`;
  if (onTick.lte(0)) return { ok: false, detail: `${tickWords} is ${written}: no price` };
  if (filter.minPrice !== undefined && onTick.lt(filter.minPrice))
    return {
      ok: false,
      detail: `${tickWords} is ${written}, below the instrument's minPrice ${filter.minPrice}`,
    };
  if (filter.maxPrice !== undefined && onTick.gt(filter.maxPrice))
    return {
      ok: false,
      detail: `${tickWords} is ${written}, above the instrument's maxPrice ${filter.maxPrice}`,
    };
  return { ok: true, price: written };
}
