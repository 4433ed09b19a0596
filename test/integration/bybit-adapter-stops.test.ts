import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionIdOf } from '#core/keys.js';
import { stopCoverage } from '#core/protection.js';
import { linkIdOf } from '#core/stop-replacement.js';
import type { ObservedPosition } from '#core/types.js';
import { type BybitSimulator, createVirtualClock } from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { adapterSession, startOneAccountSimulator } from '#test/support/simulated-account.js';

/**
 * The protection audit's reads and replace mode's write through the real bybit-api client against the
 * Bybit simulator over HTTP: what a list says of a position's own stop, what the order listing says of
 * stops resting as orders, and a placed stop that a retry cannot duplicate.
 */

const T_START = Date.UTC(2026, 0, 5, 12, 0, 0);
const clock = createVirtualClock(T_START);
const ACCOUNT = { id: 'acct-stops', apiKey: 'sim-key-stops', apiSecret: 'sim-secret-stops-00000000000' };

let sim: BybitSimulator;
let session: ExchangeSession;

beforeAll(async () => {
  sim = await startOneAccountSimulator(ACCOUNT, 7, clock);
  session = adapterSession(sim, ACCOUNT, clock);
  sim.admin.setPrice('BTCUSDT', '60000');
  sim.admin.setPrice('ETHUSDT', '3000');
  sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'BTCUSDT', side: 'Buy', qty: '0.5' });
  sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'ETHUSDT', side: 'Sell', qty: '2' });
  sim.admin.placeProtectiveOrder({
    accountId: ACCOUNT.id,
    symbol: 'ETHUSDT',
    kind: 'stop-loss',
    triggerPrice: '3300',
  });
});

afterAll(async () => {
  await sim?.close();
});

async function listed(): Promise<Map<string, ObservedPosition>> {
  const snapshot = await session.fetchOpenPositions();
  expect(snapshot.status).toBe('complete');
  return new Map(snapshot.positions.map((p) => [positionIdOf(p), p]));
}

describe('stop coverage as Bybit answers it', () => {
  it("reads a position's own stop-loss from the list, and its absence as none", async () => {
    const positions = await listed();
    expect(positions.get('ETHUSDT#0')?.protection).toMatchObject({ stopLoss: '3300', markPrice: '3000' });
    expect(positions.get('BTCUSDT#0')?.protection).not.toHaveProperty('stopLoss');
    expect(stopCoverage(positions.get('BTCUSDT#0') as ObservedPosition, [])).toMatchObject({ share: '0' });
  });

  it('places a reduce-only, close-on-trigger stop that the order listing then shows as covering the position', async () => {
    const btc = (await listed()).get('BTCUSDT#0') as ObservedPosition;
    const request = {
      symbol: 'BTCUSDT',
      positionIdx: 0,
      positionSide: 'long',
      qty: '0.5',
      triggerPrice: '57000',
      orderLinkId: linkIdOf({ symbol: 'BTCUSDT', positionIdx: 0, since: T_START }),
    } as const;
    const placed = await session.placeStop(request);
    expect(placed).toMatchObject({ status: 'placed' });
    const orders = await session.fetchProtectiveOrders();
    expect(orders.status).toBe('known');
    if (orders.status !== 'known') return;
    const stop = orders.orders.find((o) => placed.status === 'placed' && o.orderId === placed.orderId);
    expect(stop).toMatchObject({
      kind: 'reduce-only',
      triggerPrice: '57000',
      qty: '0.5',
      triggersOn: 'fall',
    });
    expect(stopCoverage(btc, orders.orders)).toMatchObject({ status: 'known', share: '1' });
    // The same episode's retry is refused by the venue as a duplicate: still one stop.
    expect(await session.placeStop(request)).toMatchObject({ status: 'already-placed' });
    const again = await session.fetchProtectiveOrders();
    expect(again.status === 'known' && again.orders.filter((o) => o.symbol === 'BTCUSDT')).toHaveLength(1);
  });

  it('a stop the mark price has already crossed is refused by the venue, and placed nowhere', async () => {
    const answer = await session.placeStop({
      symbol: 'BTCUSDT',
      positionIdx: 0,
      positionSide: 'long',
      qty: '0.5',
      triggerPrice: '61000',
      orderLinkId: 'sg-BTCUSDT-crossed',
    });
    expect(answer).toMatchObject({ status: 'failed', reason: 'exchange-error' });
  });
});
