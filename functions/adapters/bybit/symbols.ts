import type { AccountRecord } from '#ports/accounts.js';
import type { MarketRules } from '#ports/market-rules.js';

/**
 * Bybit's futures instrument names (bybit-exchange/docs `docs/v5/enum.mdx#symbol`):
 * - linear USDT perpetuals `BTCUSDT`, `1000PEPEUSDT`, `SHIB1000USDT`; USDT futures `BTCUSDT-21FEB25`;
 *   event futures `WC_ARG_AUT_USDT-22JUN26`;
 * - linear USDC perpetuals `BTCPERP`; USDC futures `BTC-24MAR23`;
 * - inverse perpetuals `BTCUSD`; inverse futures `BTCUSDH23` (a quarter's month code and a year).
 * Options (`BTC-13FEB25-89000-P-USDT`) are not positions stopguard reconciles.
 */
const SYMBOL =
  /^[A-Z0-9]+(?:_[A-Z0-9]+)*(?:-[0-9]{1,2}(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[0-9]{2})?$/;
const EXPIRY = /-[0-9]{1,2}[A-Z]{3}[0-9]{2}$/;
const INVERSE = /^([A-Z0-9]+)USD(?:[FGHJKMNQUVXZ][0-9]{2})?$/;

export const bybitMarketRules: MarketRules = {
  symbolProblem(symbol: string, market: AccountRecord['exchange']): string | undefined {
    if (symbol.length > 64 || !SYMBOL.test(symbol))
      return `symbol "${symbol}" is not a Bybit futures instrument name`;
    if (market.settleCoins.some((coin) => settlesIn(symbol, market.category, coin))) return undefined;
    return `symbol ${symbol} does not settle in ${market.settleCoins.join(' or ')} (${market.category} account)`;
  },
};

function settlesIn(symbol: string, category: AccountRecord['exchange']['category'], coin: string): boolean {
  if (category === 'inverse') return INVERSE.exec(symbol)?.[1] === coin;
  const perpetual = symbol.replace(EXPIRY, '');
  if (coin === 'USDT') return perpetual.endsWith('USDT');
  if (coin === 'USDC')
    return (
      perpetual.endsWith('PERP') ||
      perpetual.endsWith('USDC') ||
      (EXPIRY.test(symbol) && !/USDT$/.test(perpetual))
    );
  return perpetual.endsWith(coin);
}
