import { recheckOfLeg } from '#core/evidence.js';
import { positionIdOf } from '#core/keys.js';
import type {
  CloseEvidence,
  OpenProtectiveOrders,
  PositionIdx,
  PositionRecheck,
  TrackedPosition,
} from '#core/types.js';
import type { ExchangeSession } from '#ports/exchange.js';

/**
 * One position's view of a session's shared looks, for tests that ask about a single position: each is
 * exactly one call of the session, as a confirmation pass makes it for all its positions.
 */

/** The re-check of one leg, from one look at its symbol. */
export async function recheckPosition(
  session: ExchangeSession,
  symbol: string,
  positionIdx: PositionIdx,
): Promise<PositionRecheck> {
  return recheckOfLeg(await session.recheckSymbol(symbol), positionIdx);
}

/** The close evidence of one position, from one history query. */
export async function changesOf(session: ExchangeSession, position: TrackedPosition): Promise<CloseEvidence> {
  const evidence = (await session.fetchPositionChanges([position])).get(positionIdOf(position));
  if (evidence === undefined) throw new Error(`no evidence returned for ${positionIdOf(position)}`);
  return evidence;
}

/** The protective orders of one position, from one listing of the account's. */
export async function protectiveOrdersOf(
  session: ExchangeSession,
  symbol: string,
  positionIdx: PositionIdx,
): Promise<OpenProtectiveOrders> {
  const listed = await session.fetchProtectiveOrders();
  if (listed.status === 'unknown') return listed;
  return {
    status: 'known',
    orders: listed.orders.filter((o) => o.symbol === symbol && o.positionIdx === positionIdx),
  };
}
