import type { OpenProtectiveOrders } from '#core/types.js';
import type { ExchangeSession } from '#ports/exchange.js';

/**
 * The resting orders a pass needs, per symbol: one listing for all its symbols, and, when that listing
 * is too big to walk (`page-limit`: a grid of thousands of orders on one of them), one listing per
 * symbol, so that only a symbol too big on its own is left unknown and the others' orphans still go.
 */
export async function ordersOfSymbols(
  exchange: ExchangeSession,
  symbols: readonly string[],
): Promise<ReadonlyMap<string, OpenProtectiveOrders>> {
  const shared = await exchange.fetchProtectiveOrders(symbols);
  if (shared.status === 'known' || shared.failure.reason !== 'page-limit' || symbols.length < 2) {
    return new Map(symbols.map((s) => [s, shared]));
  }
  const own = new Map<string, OpenProtectiveOrders>();
  for (const symbol of symbols) own.set(symbol, await exchange.fetchProtectiveOrders([symbol]));
  return own;
}
