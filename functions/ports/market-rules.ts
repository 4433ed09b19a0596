import type { AccountRecord } from './accounts.js';

/** What a venue accepts as one of an account's instruments (Bybit's naming in the adapter). */
export interface MarketRules {
  /** Undefined when `symbol` can be a position of this account's market; otherwise why not, in words. */
  symbolProblem(symbol: string, market: AccountRecord['exchange']): string | undefined;
}
