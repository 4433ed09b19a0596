/**
 * Instruments and their price rules: the public `GET /v5/market/instruments-info` and the tick a
 * `POST /v5/order/create` trigger must sit on (bybit-exchange/docs `docs/v5/market/instrument.mdx`).
 */

import Big from 'big.js';
import { SimRejection } from './rejection.js';

/** What a test (or the admin API) may fix for a symbol; the rest is derived. */
export interface InstrumentSpec {
  symbol: string;
  tickSize: string;
  minPrice?: string;
  maxPrice?: string;
}

/** An instrument's price filter, as Bybit writes it (BTCUSDT: "0.10", "0.10", "1999999.80"). */
export interface SimPriceFilter {
  readonly tickSize: string;
  readonly minPrice: string;
  readonly maxPrice: string;
}

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * The instruments the simulated exchange lists: every symbol it has a price for, or was told about.
 * A symbol's tick is set by `set`, else derived once, from the symbol's price when it is first asked
 * for: Bybit-like, about six significant digits (60000 → 0.1, 3000 → 0.01, 0.15 → 0.000001), and never
 * coarser than that price's own decimals, so that price is on it. Bybit's ranges follow its ticks: minPrice
 * one tick, maxPrice 19999998 ticks (BTCUSDT 0.10 and 1999999.80).
 */
export class InstrumentBook {
  private readonly fixed = new Map<string, SimPriceFilter>();
  private readonly derived = new Map<string, SimPriceFilter>();

  constructor(private readonly priceOf: (symbol: string) => string | undefined) {}

  set(spec: InstrumentSpec): void {
    const tick = new Big(positive(spec.tickSize, 'tickSize'));
    const filter = {
      tickSize: spec.tickSize,
      minPrice: spec.minPrice === undefined ? spec.tickSize : positive(spec.minPrice, 'minPrice'),
      maxPrice:
        spec.maxPrice === undefined
          ? tick.times(19_999_998).toFixed(decimalsOf(spec.tickSize))
          : positive(spec.maxPrice, 'maxPrice'),
    };
    this.fixed.set(spec.symbol, filter);
  }

  /** The symbol's price filter; undefined for a symbol the exchange does not list. */
  filter(symbol: string): SimPriceFilter | undefined {
    const known = this.fixed.get(symbol) ?? this.derived.get(symbol);
    if (known !== undefined) return known;
    const price = this.priceOf(symbol);
    if (price === undefined || !DECIMAL.test(price) || !new Big(price).gt(0)) return undefined;
    const magnitude = new Big(price).e; // 60000 → 4, 0.15 → -1
    const decimals = Math.max(decimalsOf(price), 5 - magnitude);
    const tickSize = decimals <= 0 ? '1' : `0.${'1'.padStart(decimals, '0')}`;
    const filter = {
      tickSize,
      minPrice: tickSize,
      maxPrice: new Big(tickSize).times(19_999_998).toFixed(Math.max(decimals, 0)),
    };
    this.derived.set(symbol, filter);
    return filter;
  }

  /**
   * Refuses a price off the symbol's tick. Bybit's error page (docs/v5/error.mdx) names no derivatives
   * code for it (spot's is 170134 "Order price decimal too long."), so this is 10001, the parameter
   * error, naming the tick. A symbol not listed, or a price that is no decimal, is left to the checks
   * that follow.
   */
  requireOnTick(symbol: string, name: string, price: string): void {
    const filter = this.filter(symbol);
    if (filter === undefined || !DECIMAL.test(price)) return;
    if (!new Big(price).mod(filter.tickSize).eq(0)) {
      throw new SimRejection(
        10001,
        `params error: ${name} ${price} is not a multiple of the tickSize ${filter.tickSize} of ${symbol}`,
      );
    }
  }
}

/**
 * `GET /v5/market/instruments-info` for one symbol, in Bybit's documented shape for linear. A symbol
 * not listed is an empty list with retCode 0, as Bybit answers one (bybit-exchange/pybit#294). Without
 * `symbol` the list is every instrument listed so far.
 */
export function instrumentsInfo(book: InstrumentBook, params: Readonly<Record<string, unknown>>): unknown {
  const category = params.category;
  if (category === undefined || category === '')
    throw new SimRejection(10001, 'params error: category is required');
  if (category !== 'linear')
    throw new SimRejection(10001, `params error: category ${String(category)} is not simulated`);
  const symbol = typeof params.symbol === 'string' && params.symbol !== '' ? params.symbol : undefined;
  const filter = symbol === undefined ? undefined : book.filter(symbol);
  const list = symbol === undefined || filter === undefined ? [] : [instrumentEntry(symbol, filter)];
  return { category: 'linear', list, nextPageCursor: '' };
}

function instrumentEntry(symbol: string, priceFilter: SimPriceFilter): unknown {
  const quote = symbol.endsWith('USDC') || symbol.endsWith('PERP') ? 'USDC' : 'USDT';
  const base = symbol.replace(/(USDT|USDC|PERP)$/, '');
  return {
    symbol,
    contractType: 'LinearPerpetual',
    status: 'Trading',
    baseCoin: base,
    quoteCoin: quote,
    launchTime: '1585526400000',
    deliveryTime: '0',
    deliveryFeeRate: '',
    priceScale: String(decimalsOf(priceFilter.tickSize)),
    leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
    priceFilter,
    lotSizeFilter: {
      maxOrderQty: '1000000',
      minOrderQty: '0.001',
      qtyStep: '0.001',
      postOnlyMaxOrderQty: '1000000',
      maxMktOrderQty: '100000',
      minNotionalValue: '5',
    },
    unifiedMarginTrade: true,
    fundingInterval: 480,
    settleCoin: quote,
    copyTrading: 'both',
    upperFundingRate: '0.00375',
    lowerFundingRate: '-0.00375',
    isPreListing: false,
    preListingInfo: null,
    symbolType: '',
  };
}

function decimalsOf(value: string): number {
  return value.split('.')[1]?.length ?? 0;
}

function positive(value: string, name: string): string {
  if (!DECIMAL.test(value) || !new Big(value).gt(0))
    throw new Error(`${name} must be a positive decimal string, got ${value}`);
  return value;
}
