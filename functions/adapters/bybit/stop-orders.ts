import type { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import type { StopOrderRequest } from '#core/decision.js';
import type { PlaceStopOutcome } from '#ports/exchange.js';
import { DUPLICATE_ORDER_LINK_ID } from './failures.js';
import { type PriceFilters, priceOnTick } from './instruments.js';
import { createResultSchema } from './schemas.js';
import type { pacedSender } from './transport.js';

/**
 * Replace mode's stop on Bybit: `POST /v5/order/create` with a conditional market order that only
 * closes (reduce-only and close-on-trigger), triggering on the mark price moving against the position
 * (`triggerDirection` 2, falling, for a long; 1, rising, for a short). Sent once; its `orderLinkId`
 * turns any later attempt into a refused duplicate (retCode 110072), which reads as already placed.
 *
 * The trigger is first put on the instrument's tick (`priceFilters`), away from the market: a price
 * off the tick is refused by the venue and would leave the position bare. Without the tick (the read
 * failed, or the venue lists no such instrument) the trigger goes as computed, the detail says so, and
 * a venue that refuses it leaves the placement failed for the next look, which reads the tick again:
 * holding the stop back could only leave the position bare longer.
 */
export async function placeStopOrder(
  send: ReturnType<typeof pacedSender>,
  client: RestClientV5,
  category: 'linear' | 'inverse',
  request: StopOrderRequest,
  priceFilters: PriceFilters,
): Promise<PlaceStopOutcome> {
  const long = request.positionSide === 'long';
  const asked = `POST /v5/order/create ${request.symbol} stop ${request.qty} at ${request.triggerPrice} (${request.orderLinkId})`;
  const lookup = await priceFilters.of(request.symbol);
  const onTick = lookup.ok
    ? priceOnTick(request.triggerPrice, lookup.filter, long ? 'down' : 'up')
    : undefined;
  if (onTick?.ok === false) {
    return { status: 'failed', detail: `${asked}: not sent: ${onTick.detail}`, reason: 'exchange-error' };
  }
  const triggerPrice = onTick?.price ?? request.triggerPrice;
  const context = !lookup.ok
    ? `${asked}, sent as computed: no tick size to put it on (${lookup.failure.detail})`
    : triggerPrice === request.triggerPrice
      ? asked
      : `POST /v5/order/create ${request.symbol} stop ${request.qty} at ${triggerPrice} (${request.triggerPrice} on the tick ${lookup.filter.tickSize}) (${request.orderLinkId})`;
  const reply = await send(
    '/v5/order/create',
    () =>
      client.submitOrder({
        category,
        symbol: request.symbol,
        side: long ? 'Sell' : 'Buy',
        orderType: 'Market',
        qty: request.qty,
        triggerPrice,
        triggerDirection: long ? 2 : 1,
        triggerBy: 'MarkPrice',
        reduceOnly: true,
        closeOnTrigger: true,
        positionIdx: request.positionIdx,
        orderLinkId: request.orderLinkId,
      }),
    context,
  );
  if (reply.ok) {
    const parsed = createResultSchema.safeParse(reply.result);
    // Accepted (retCode 0) even if the echo is odd: the stop rests, say so rather than send again.
    return {
      status: 'placed',
      orderId: parsed.success ? parsed.data.orderId : '(not echoed)',
      ...(triggerPrice === request.triggerPrice ? {} : { triggerPrice }),
    };
  }
  const { failure } = reply;
  if (failure.exchangeCode === DUPLICATE_ORDER_LINK_ID)
    return { status: 'already-placed', detail: failure.detail };
  // The venue refused a price put on what we keep of its rules: the next attempt reads them afresh.
  if (failure.exchangeCode !== undefined) priceFilters.forget(request.symbol);
  return {
    status: 'failed',
    detail: failure.detail,
    reason: failure.reason,
    ...(failure.exchangeCode === undefined ? {} : { exchangeCode: failure.exchangeCode }),
  };
}
