import { describe, expect, it } from 'vitest';
import { callBybit } from '#adapters/bybit/transport.js';
import {
  fixtureFiles,
  fixtureResponse,
  INSTRUMENTS_REQUEST,
  requestLines,
  serveFixtures,
  stubClient,
  stubRedactor,
  stubSession,
  useBybitStub,
  withWireNumbers,
} from '#test/support/bybit-stub.js';

/**
 * Every recorded answer of a write endpoint, over HTTP against the in-process stub:
 * `POST /v5/order/cancel` (test/fixtures/bybit/order-cancel) through `cancelOrder`; `POST
 * /v5/order/create` (order-create) through `placeStop`; `/v5/order/cancel-batch` and
 * `/v5/position/trading-stop` (order-cancel-batch, trading-stop), which the adapter does not call, through `callBybit` with
 * the REST client as the adapter configures it. roq-bybit's `ws-order-*` files are WebSocket Trade API
 * frames (`op`, `data`, a `header` object, no `result`/`time`), served here as if REST had sent them:
 * the envelope schema requires `result`, so each is refused as schema-mismatch, whatever its retCode.
 * Expected values read off each fixture by hand.
 */

const stub = useBybitStub();
const CANCEL = 'POST /v5/order/cancel';
const CREATE = 'POST /v5/order/create';

function session() {
  return stubSession(stub.baseUrl, { clock: { now: () => 1_800_000_000_000 } });
}

// --- order-cancel ---------------------------------------------------------------------------------

describe('order-cancel fixtures, through cancelOrder', () => {
  it('every file in test/fixtures/bybit/order-cancel has a case here', () => {
    expect(fixtureFiles('order-cancel')).toEqual([
      'bybitdocs-2022-12-current.json',
      'roq-bybit-cancel-order-ack-2025-12.json',
      'roq-bybit-ws-order-cancel-failure-110001.json',
      'roq-bybit-ws-order-cancel-success.json',
    ]);
  });

  it.each([
    ['bybitdocs-2022-12-current.json', 'c6f055d9-7f21-4079-913d-e6523a9cfffa'],
    ['roq-bybit-cancel-order-ack-2025-12.json', 'b8614cb3-9ddb-460b-9282-a994528eac87'],
  ])('%s: result {orderId, orderLinkId} echoing the order is cancelled', async (file, orderId) => {
    stub.handler = serveFixtures({ [CANCEL]: fixtureResponse('order-cancel', file) });
    expect(await session().cancelOrder('BTCUSDT', orderId)).toEqual({ status: 'cancelled', orderId });
    expect(stub.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v5/order/cancel',
      body: { category: 'linear', symbol: 'BTCUSDT', orderId },
    });
    // The same answer to a cancel of another order: accepted, but for an order we did not name.
    expect(await session().cancelOrder('BTCUSDT', 'some-other-order')).toEqual({
      status: 'failed',
      orderId: 'some-other-order',
      detail: `POST /v5/order/cancel BTCUSDT some-other-order: Bybit acknowledged a different order (${orderId})`,
      reason: 'schema-mismatch',
      retryable: true,
    });
  });

  it('roq-bybit-ws-order-cancel-failure-110001.json: a refusal without result still has its retCode read: 110001 is already gone', async () => {
    stub.handler = serveFixtures({
      [CANCEL]: fixtureResponse('order-cancel', 'roq-bybit-ws-order-cancel-failure-110001.json'),
    });
    // A refusal's code is read whether or not a `result` comes with it (Bybit's documented 10006 body
    // has none); 110001 "order not exists" means the cancel's goal is met.
    expect(await session().cancelOrder('BTCUSDT', 'sl-1')).toEqual({
      status: 'already-gone',
      orderId: 'sl-1',
      detail: expect.stringMatching(/^POST \/v5\/order\/cancel BTCUSDT sl-1: Bybit retCode 110001/),
    });
  });

  it('roq-bybit-ws-order-cancel-success.json: a WS ack (data, no result/time) is no REST success: refused, retryable', async () => {
    const orderId = '15141634-9867-4d9f-9159-ba37ae9b5fca';
    const frame = fixtureResponse('order-cancel', 'roq-bybit-ws-order-cancel-success.json');
    stub.handler = serveFixtures({ [CANCEL]: frame });
    expect(await session().cancelOrder('BTCUSDT', orderId)).toEqual({
      status: 'failed',
      orderId,
      detail: expect.stringMatching(/: a success without result$/),
      reason: 'schema-mismatch',
      retryable: true,
    });
    // The envelope parser itself: schema-mismatch; the "header" object in the body is not HTTP headers.
    const client = stubClient(stub.baseUrl);
    expect(
      await callBybit(
        () => client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId }),
        CANCEL,
        stubRedactor,
      ),
    ).toEqual({
      ok: false,
      failure: {
        reason: 'schema-mismatch',
        detail: expect.stringMatching(/^POST \/v5\/order\/cancel: a success without result$/),
      },
    });
  });
});

// --- order-create -----------------------------------------------------------------------------------

const createCases: Record<
  string,
  { readonly orderId: string; readonly orderLinkId: string; readonly time: number; readonly ccxt?: true }
> = {
  'bybitdocs-2022-12-current.json': {
    orderId: '1321003749386327552',
    orderLinkId: 'spot-test-postonly',
    time: 1672211918471,
  },
  'ccxt-createMarketBuyOrderWithCost-spot.json': {
    orderId: '1971981115648733696',
    orderLinkId: '1971981115648733697',
    time: 1749814467805,
    ccxt: true,
  },
  'ccxt-createOrder-spot-limit.json': {
    orderId: '1609920528435648000',
    orderLinkId: '1609920528444036608',
    time: 1706653482432,
    ccxt: true,
  },
  'ccxt-createOrder-spot-stoploss.json': {
    orderId: '1992319485461489920',
    orderLinkId: '1992319485469878528',
    time: 1752238990423,
    ccxt: true,
  },
  'roq-bybit-place-order-ack.json': {
    orderId: '1410305521329702656',
    orderLinkId: 'SQAC6QMAAQAASPS4YMFC',
    time: 1682857519260,
  },
};

/** The stop replace mode places on a long: every create fixture is served as its answer. */
const stopRequest = {
  symbol: 'BTCUSDT',
  positionIdx: 0,
  positionSide: 'long',
  qty: '0.001',
  triggerPrice: '57950',
  orderLinkId: 'sg-BTCUSDT-0mbx1k2',
} as const;

describe('order-create fixtures, through placeStop', () => {
  it('every file in test/fixtures/bybit/order-create has a case here', () => {
    expect(fixtureFiles('order-create')).toEqual(
      [
        ...Object.keys(createCases),
        'roq-bybit-ws-order-create-failure-110003.json',
        'roq-bybit-ws-order-create-success.json',
      ].sort(),
    );
  });

  it('sends a reduce-only, close-on-trigger market stop that triggers on the mark price falling, with its orderLinkId', async () => {
    stub.handler = serveFixtures({
      [CREATE]: fixtureResponse('order-create', 'bybitdocs-2022-12-current.json'),
    });
    await session().placeStop(stopRequest);
    expect(stub.requests[1]?.body).toEqual({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Market',
      qty: '0.001',
      triggerPrice: '57950',
      triggerDirection: 2,
      triggerBy: 'MarkPrice',
      reduceOnly: true,
      closeOnTrigger: true,
      positionIdx: 0,
      orderLinkId: 'sg-BTCUSDT-0mbx1k2',
    });
    stub.requests.length = 0;
    await session().placeStop({
      ...stopRequest,
      positionIdx: 2,
      positionSide: 'short',
      triggerPrice: '62050',
    });
    expect(stub.requests[1]?.body).toMatchObject({ side: 'Buy', triggerDirection: 1, positionIdx: 2 });
  });

  for (const [file, c] of Object.entries(createCases)) {
    const recorded = fixtureResponse('order-create', file);
    if (c.ccxt === true) {
      it(`${file}: as recorded (retCode "0", time as strings) is refused, so nothing counts as placed`, async () => {
        stub.handler = serveFixtures({ [CREATE]: recorded });
        expect(await session().placeStop(stopRequest)).toEqual({
          status: 'failed',
          reason: 'schema-mismatch',
          detail: expect.stringContaining('not a V5 response'),
        });
      });
    }
    it(`${file}${c.ccxt === true ? " (Bybit's number types restored)" : ''}: placed as order ${c.orderId}`, async () => {
      stub.handler = serveFixtures({ [CREATE]: c.ccxt === true ? withWireNumbers(recorded) : recorded });
      expect(await session().placeStop(stopRequest)).toEqual({ status: 'placed', orderId: c.orderId });
      // Sent once: a create is never resent by the adapter.
      expect(requestLines(stub.requests)).toEqual([INSTRUMENTS_REQUEST, CREATE]);
    });
  }

  it('roq-bybit-ws-order-create-failure-110003.json: a refusal without result still has its retCode 110003 read', async () => {
    stub.handler = serveFixtures({
      [CREATE]: fixtureResponse('order-create', 'roq-bybit-ws-order-create-failure-110003.json'),
    });
    expect(await session().placeStop(stopRequest)).toMatchObject({
      status: 'failed',
      reason: 'exchange-error',
      exchangeCode: 110003,
    });
  });

  it('roq-bybit-ws-order-create-success.json: a WS ack (data, no result/time) is no REST success: failed, tried again later', async () => {
    stub.handler = serveFixtures({
      [CREATE]: fixtureResponse('order-create', 'roq-bybit-ws-order-create-success.json'),
    });
    expect(await session().placeStop(stopRequest)).toEqual({
      status: 'failed',
      reason: 'schema-mismatch',
      detail: expect.stringMatching(/a success without result$/),
    });
  });

  it('a duplicate orderLinkId (retCode 110072) means an earlier attempt placed it', async () => {
    stub.handler = serveFixtures({
      [CREATE]: {
        retCode: 110072,
        retMsg: 'OrderLinkedID is duplicate',
        result: {},
        time: 1_800_000_000_000,
      },
    });
    expect(await session().placeStop(stopRequest)).toMatchObject({ status: 'already-placed' });
  });
});

// --- order-cancel-batch and trading-stop --------------------------------------------------------------

describe('order-cancel-batch and trading-stop fixtures (no reader yet: callBybit)', () => {
  it('every file in test/fixtures/bybit/order-cancel-batch and trading-stop has a case here', () => {
    expect(fixtureFiles('order-cancel-batch')).toEqual([
      'bybitdocs-2022-12-option-all-ok.json',
      'bybitdocs-2024-04-current-spot-partial-fail.json',
    ]);
    expect(fixtureFiles('trading-stop')).toEqual(['bybitdocs-2022-12-current-empty-result.json']);
  });

  const batch = (category: 'option' | 'spot', orders: { symbol: string; orderId: string }[]) => {
    const client = stubClient(stub.baseUrl);
    return callBybit(
      () => client.batchCancelOrders(category, orders),
      'POST /v5/order/cancel-batch',
      stubRedactor,
    );
  };

  it('bybitdocs-2022-12-option-all-ok.json: both option orders listed as cancelled', async () => {
    stub.handler = serveFixtures({
      'POST /v5/order/cancel-batch': fixtureResponse(
        'order-cancel-batch',
        'bybitdocs-2022-12-option-all-ok.json',
      ),
    });
    const orders = [
      { symbol: 'ETH-30DEC22-500-C', orderId: 'b551f227-7059-4fb5-a6a6-699c04dbd2f2' },
      { symbol: 'ETH-30DEC22-700-C', orderId: 'fa6a595f-1a57-483f-b9d3-30e9c8235a52' },
    ];
    expect(await batch('option', orders)).toEqual({
      ok: true,
      result: {
        list: orders.map((o) => ({ category: 'option', ...o, orderLinkId: 'option-test-001' })),
      },
      time: 1672223357252,
    });
    expect(stub.requests[0]?.body).toMatchObject({ category: 'option', request: orders });
  });

  it('bybitdocs-2024-04-current-spot-partial-fail.json: the failed item has orderId ""; its code 170213 lives only in retExtInfo, which callBybit drops', async () => {
    stub.handler = serveFixtures({
      'POST /v5/order/cancel-batch': fixtureResponse(
        'order-cancel-batch',
        'bybitdocs-2024-04-current-spot-partial-fail.json',
      ),
    });
    const reply = await batch('spot', [
      { symbol: 'BTCUSDT', orderId: '1666800494330512128' },
      { symbol: 'ATOMUSDT', orderId: '1666800494330512129' },
    ]);
    expect(reply).toEqual({
      ok: true,
      result: {
        list: [
          { category: 'spot', symbol: 'BTCUSDT', orderId: '1666800494330512128', orderLinkId: 'spot-btc-03' },
          { category: 'spot', symbol: 'ATOMUSDT', orderId: '', orderLinkId: '1666800494330512129' },
        ],
      },
      time: 1713434299047,
    });
    // A batch reader needs retExtInfo.list[i].code (0 / 170213 "Order does not exist."): not in the reply.
    expect(JSON.stringify(reply)).not.toContain('170213');
  });

  it('bybitdocs-2022-12-current-empty-result.json: result {} with the exchange time', async () => {
    stub.handler = serveFixtures({
      'POST /v5/position/trading-stop': fixtureResponse(
        'trading-stop',
        'bybitdocs-2022-12-current-empty-result.json',
      ),
    });
    const client = stubClient(stub.baseUrl);
    expect(
      await callBybit(
        () =>
          client.setTradingStop({ category: 'linear', symbol: 'BTCUSDT', stopLoss: '50000', positionIdx: 0 }),
        'POST /v5/position/trading-stop',
        stubRedactor,
      ),
    ).toEqual({ ok: true, result: {}, time: 1672283125359 });
    expect(stub.requests[0]?.body).toMatchObject({
      category: 'linear',
      symbol: 'BTCUSDT',
      stopLoss: '50000',
    });
  });
});
