import { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PRICE_FILTER_TTL_MS } from '#adapters/bybit/instruments.js';
import type { StopOrderRequest } from '#core/decision.js';
import { type BybitSimulator, createVirtualClock, PUBLIC_CALLER } from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { adapterSession, startOneAccountSimulator } from '#test/support/simulated-account.js';

/**
 * Replace mode's stop put on the instrument's tick, through the real bybit-api client against the
 * Bybit simulator over HTTP. The core rounds a trigger to the entry price's decimals, and a position's
 * `avgPrice` carries many, so a stop can be off the tick, which the venue refuses: the adapter reads the
 * tick from the public `GET /v5/market/instruments-info` (once per symbol per session, for an hour) and
 * rounds the trigger away from the market; without the tick it sends the trigger as computed.
 */

const T_START = Date.UTC(2026, 0, 5, 12, 0, 0);
const clock = createVirtualClock(T_START);
const ACCOUNT = { id: 'acct-tick', apiKey: 'sim-key-tick', apiSecret: 'sim-secret-tick-000000000000' };
const INSTRUMENTS = '/v5/market/instruments-info';

let sim: BybitSimulator;

const newSession = (): ExchangeSession => adapterSession(sim, ACCOUNT, clock);

const tickReads = () => sim.admin.groundTruth().requestCounts[PUBLIC_CALLER]?.[INSTRUMENTS] ?? 0;
const creates = () => sim.admin.groundTruth().requestCounts[ACCOUNT.id]?.['/v5/order/create'] ?? 0;
const restingOn = (symbol: string) => sim.admin.openOrders(ACCOUNT.id).filter((o) => o.symbol === symbol);

function stop(over: Partial<StopOrderRequest> & Pick<StopOrderRequest, 'orderLinkId'>): StopOrderRequest {
  return {
    symbol: 'BTCUSDT',
    positionIdx: 0,
    positionSide: 'long',
    qty: '0.5',
    triggerPrice: '57105.67283',
    ...over,
  };
}

beforeAll(async () => {
  sim = await startOneAccountSimulator(ACCOUNT, 11, clock);
  // BTCUSDT as Bybit documents it (tick "0.10"); ETHUSDT's tick derived from its price (0.01).
  sim.admin.setInstrument({ symbol: 'BTCUSDT', tickSize: '0.10' });
  for (const [symbol, price] of [
    ['BTCUSDT', '60000'],
    ['ETHUSDT', '3000'],
    ['SOLUSDT', '150'],
  ] as const) {
    sim.admin.setPrice(symbol, price);
  }
  sim.admin.setInstrument({ symbol: 'SOLUSDT', tickSize: '0.010', maxPrice: '160' });
  sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'BTCUSDT', side: 'Buy', qty: '0.5' });
  sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'ETHUSDT', side: 'Sell', qty: '2' });
  sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'SOLUSDT', side: 'Sell', qty: '10' });
});

afterEach(() => {
  sim.admin.setFaults({ serverError: { probability: 0 } });
});

afterAll(async () => {
  await sim?.close();
});

describe('the simulator, as a venue that checks ticks', () => {
  it('lists an instrument in Bybit’s documented shape, and nothing for a symbol it does not trade', async () => {
    const api = new RestClientV5({ baseUrl: sim.url });
    const btc = await api.getInstrumentsInfo({ category: 'linear', symbol: 'BTCUSDT' });
    expect(btc).toMatchObject({
      retCode: 0,
      result: {
        category: 'linear',
        nextPageCursor: '',
        list: [
          {
            symbol: 'BTCUSDT',
            status: 'Trading',
            priceFilter: { minPrice: '0.10', maxPrice: '1999999.80', tickSize: '0.10' },
            lotSizeFilter: { qtyStep: '0.001' },
          },
        ],
      },
    });
    const eth = await api.getInstrumentsInfo({ category: 'linear', symbol: 'ETHUSDT' });
    expect(eth.result.list[0]?.priceFilter).toEqual({
      minPrice: '0.01',
      maxPrice: '199999.98',
      tickSize: '0.01',
    });
    const none = await api.getInstrumentsInfo({ category: 'linear', symbol: 'NOPEUSDT' });
    expect(none).toMatchObject({ retCode: 0, result: { list: [] } });
  });

  it('refuses an off-tick trigger sent as is (what the adapter did before rounding), and rests nothing', async () => {
    const api = new RestClientV5({ baseUrl: sim.url, key: ACCOUNT.apiKey, secret: ACCOUNT.apiSecret });
    const refused = await api.submitOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Market',
      qty: '0.5',
      triggerPrice: '57105.67283',
      triggerDirection: 2,
      triggerBy: 'MarkPrice',
      reduceOnly: true,
      closeOnTrigger: true,
      orderLinkId: 'raw-off-tick',
    });
    expect(refused.retCode).toBe(10001);
    expect(refused.retMsg).toContain('tickSize 0.10');
    expect(restingOn('BTCUSDT')).toEqual([]);
  });
});

describe('a stop put on the tick by the adapter', () => {
  it("rounds a long's trigger down (away from the market) and it rests on the tick", async () => {
    const session = newSession();
    const placed = await session.placeStop(stop({ orderLinkId: 'sg-BTCUSDT-tick-long' }));
    // The outcome says where it rests, so the audit does not name the price asked for.
    expect(placed).toMatchObject({ status: 'placed', triggerPrice: '57105.60' });
    expect(restingOn('BTCUSDT')).toMatchObject([
      { triggerPrice: '57105.60', side: 'Sell', crossDirection: 2, reduceOnly: true, closeOnTrigger: true },
    ]);
    const listed = await session.fetchProtectiveOrders(['BTCUSDT']);
    expect(listed.status === 'known' && listed.orders.map((o) => o.triggerPrice)).toEqual(['57105.60']);
  });

  it("rounds a short's trigger up, on a tick derived from the price", async () => {
    const placed = await newSession().placeStop(
      stop({
        symbol: 'ETHUSDT',
        positionSide: 'short',
        qty: '2',
        triggerPrice: '3150.123456',
        orderLinkId: 'sg-ETHUSDT-tick-short',
      }),
    );
    expect(placed).toMatchObject({ status: 'placed' });
    expect(restingOn('ETHUSDT')).toMatchObject([{ triggerPrice: '3150.13', side: 'Buy', crossDirection: 1 }]);
  });

  it("leaves a short's trigger already on the tick where it is, not a tick up", async () => {
    const placed = await newSession().placeStop(
      stop({
        symbol: 'ETHUSDT',
        positionSide: 'short',
        qty: '0.5',
        triggerPrice: '3200.10',
        orderLinkId: 'sg-ETHUSDT-on-tick-short',
      }),
    );
    expect(placed).toMatchObject({ status: 'placed' });
    expect(placed).not.toHaveProperty('triggerPrice');
    expect(restingOn('ETHUSDT').map((o) => o.triggerPrice)).toContain('3200.10');
  });

  it('sends a trigger already on the tick as it was written', async () => {
    sim.admin.closePosition({ accountId: ACCOUNT.id, symbol: 'BTCUSDT' });
    sim.admin.openPosition({ accountId: ACCOUNT.id, symbol: 'BTCUSDT', side: 'Buy', qty: '0.1' });
    const placed = await newSession().placeStop(
      stop({ qty: '0.1', triggerPrice: '57000', orderLinkId: 'sg-BTCUSDT-on-tick' }),
    );
    expect(placed).toMatchObject({ status: 'placed' });
    expect(placed).not.toHaveProperty('triggerPrice');
    expect(restingOn('BTCUSDT').map((o) => o.triggerPrice)).toContain('57000');
  });

  it('refuses, unsent, a trigger that on the tick falls outside the instrument’s price range', async () => {
    const before = creates();
    const outcome = await newSession().placeStop(
      stop({
        symbol: 'SOLUSDT',
        positionSide: 'short',
        qty: '10',
        triggerPrice: '160.0001',
        orderLinkId: 'sg-SOLUSDT-range',
      }),
    );
    expect(outcome).toMatchObject({ status: 'failed', reason: 'exchange-error' });
    expect(outcome.status === 'failed' && outcome.detail).toContain(
      '160.0001 on the tick 0.010 is 160.010, above the instrument',
    );
    expect(creates()).toBe(before);
  });
});

describe('without the tick, the trigger as computed', () => {
  it('an instruments-info answer of 502 sends the trigger as computed; refused off the tick, the next attempt reads the tick and places', async () => {
    const session = newSession();
    sim.admin.setFaults({ serverError: { probability: 1, endpoints: [INSTRUMENTS] } });
    const before = creates();
    const request = stop({
      symbol: 'ETHUSDT',
      positionSide: 'short',
      qty: '2',
      triggerPrice: '3300.005',
      orderLinkId: 'sg-ETHUSDT-502',
    });
    const outcome = await session.placeStop(request);
    // Sent as it was: this venue checks ticks and refuses it, and the detail says why it was sent so.
    expect(outcome).toMatchObject({ status: 'failed', exchangeCode: 10001 });
    expect(outcome.status === 'failed' && outcome.detail).toMatch(
      /^POST \/v5\/order\/create ETHUSDT stop 2 at 3300\.005 \(sg-ETHUSDT-502\), sent as computed: no tick size .*HTTP 50[23]/,
    );
    expect(JSON.stringify(outcome)).not.toContain(ACCOUNT.apiSecret);
    expect(JSON.stringify(outcome)).not.toContain(ACCOUNT.apiKey);
    expect(creates()).toBe(before + 1);
    // A fault aimed at the public endpoint leaves the private ones alone, and a failed read is not kept.
    sim.admin.setFaults({ serverError: { probability: 0 } });
    expect(await session.placeStop(request)).toMatchObject({ status: 'placed' });
    expect(restingOn('ETHUSDT').map((o) => o.triggerPrice)).toContain('3300.01');
  });

  it('a trigger already on the tick is placed although the tick cannot be read', async () => {
    sim.admin.setFaults({ serverError: { probability: 1, endpoints: [INSTRUMENTS] } });
    try {
      const outcome = await newSession().placeStop(
        stop({
          symbol: 'ETHUSDT',
          positionSide: 'short',
          qty: '1',
          triggerPrice: '3310.5',
          orderLinkId: 'sg-E-blind',
        }),
      );
      expect(outcome).toMatchObject({ status: 'placed' });
      expect(restingOn('ETHUSDT').map((o) => o.triggerPrice)).toContain('3310.5');
    } finally {
      sim.admin.setFaults({ serverError: { probability: 0 } });
    }
  });

  it('a symbol the venue does not list is sent as computed, and the venue decides', async () => {
    const before = creates();
    const outcome = await newSession().placeStop(stop({ symbol: 'NOPEUSDT', orderLinkId: 'sg-NOPEUSDT-x' }));
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.detail).toContain('lists no such trading instrument');
    expect(creates()).toBe(before + 1);
  });
});

describe('the tick, read once per symbol per session', () => {
  it('is asked once per symbol, shared by concurrent placements, and again after an hour', async () => {
    const session = newSession();
    const reads = tickReads();
    const [a, b] = await Promise.all([
      session.placeStop(stop({ orderLinkId: 'sg-BTCUSDT-once-a', qty: '0.01', triggerPrice: '50000.01' })),
      session.placeStop(stop({ orderLinkId: 'sg-BTCUSDT-once-b', qty: '0.01', triggerPrice: '50000.02' })),
    ]);
    expect([a.status, b.status]).toEqual(['placed', 'placed']);
    await session.placeStop(
      stop({ orderLinkId: 'sg-BTCUSDT-once-c', qty: '0.01', triggerPrice: '50000.03' }),
    );
    expect(tickReads()).toBe(reads + 1);
    await session.placeStop(
      stop({
        symbol: 'ETHUSDT',
        positionSide: 'short',
        qty: '0.1',
        triggerPrice: '3400.001',
        orderLinkId: 'sg-E-once',
      }),
    );
    expect(tickReads()).toBe(reads + 2);
    // Another session (another account's, or a new container) reads its own.
    await newSession().placeStop(
      stop({ orderLinkId: 'sg-BTCUSDT-once-d', qty: '0.01', triggerPrice: '50000.04' }),
    );
    expect(tickReads()).toBe(reads + 3);
    clock.advance(PRICE_FILTER_TTL_MS);
    await session.placeStop(
      stop({ orderLinkId: 'sg-BTCUSDT-once-e', qty: '0.01', triggerPrice: '50000.05' }),
    );
    expect(tickReads()).toBe(reads + 4);
    const once = restingOn('BTCUSDT').filter((o) => o.orderLinkId.startsWith('sg-BTCUSDT-once-'));
    expect(once.map((o) => o.triggerPrice)).toEqual(Array(5).fill('50000.00'));
  });
});

describe('a tick the venue changed', () => {
  it('a price refused on the kept tick drops it, and the next attempt reads the new one and places', async () => {
    const session = newSession();
    await session.placeStop(stop({ orderLinkId: 'sg-BTCUSDT-kept', qty: '0.01', triggerPrice: '50000.05' }));
    const reads = tickReads();
    sim.admin.setInstrument({ symbol: 'BTCUSDT', tickSize: '0.50' });
    try {
      const request = stop({ orderLinkId: 'sg-BTCUSDT-changed', qty: '0.01', triggerPrice: '50000.30' });
      expect(await session.placeStop(request)).toMatchObject({ status: 'failed', exchangeCode: 10001 });
      expect(tickReads()).toBe(reads);
      expect(await session.placeStop(request)).toMatchObject({ status: 'placed', triggerPrice: '50000.00' });
      expect(tickReads()).toBe(reads + 1);
    } finally {
      sim.admin.setInstrument({ symbol: 'BTCUSDT', tickSize: '0.10' });
    }
  });
});
