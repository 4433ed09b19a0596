import { describe, expect, it } from 'vitest';
import { protectiveKindOf, toProtectiveOrder } from '#adapters/bybit/mapping.js';
import { type BybitOrder, listResultSchema, orderEntrySchema } from '#adapters/bybit/schemas.js';
import { callBybit } from '#adapters/bybit/transport.js';
import type { PositionIdx, ProtectiveOrderKind } from '#core/types.js';
import {
  fixtureFiles,
  fixtureResponse,
  requestLines,
  serveFixtures,
  stubClient,
  stubRedactor,
  useBybitStub,
  withWireNumbers,
} from '#test/support/bybit-stub.js';

/**
 * Every recorded `GET /v5/order/history` answer (test/fixtures/bybit/order-history). The adapter has
 * no reader for it yet: each is fetched with the REST client as the adapter configures it, through
 * `callBybit` (transport.ts), over HTTP against the in-process stub, and its rows go through the order
 * entry schema and mapping the realtime reader uses. Expected values read off each fixture by hand.
 */

const stub = useBybitStub();
const HISTORY = 'GET /v5/order/history';

interface HistoryCase {
  readonly what: string;
  /** The leg the rows belong to (mapping asks for one). */
  readonly positionIdx: PositionIdx;
  /** The envelope time. */
  readonly time: number;
  /** Each entry as the order entry schema must read it. */
  readonly entries: readonly BybitOrder[];
  /** The protective kind of each entry, status aside. */
  readonly kinds: readonly (ProtectiveOrderKind | undefined)[];
  readonly ccxt?: true;
}

// docs/v5/order/order-list.mdx 2022-12 → 2023-05: a Cancelled linear limit Sell; timeInForce
// "GoodTillCancel" or "GTC" and placeType/smp fields come and go (none is read).
const cancelledSell: HistoryCase = {
  what: 'a Cancelled limit Sell (triggerPrice "", stopOrderType "UNKNOWN")',
  positionIdx: 0,
  time: 1672221263862,
  entries: [
    {
      orderId: '03234de9-1332-41eb-b805-4a9f42c136a3',
      symbol: 'BTCUSDT',
      positionIdx: 0,
      side: 'Sell',
      orderStatus: 'Cancelled',
      reduceOnly: false,
      closeOnTrigger: false,
      stopOrderType: 'UNKNOWN',
      triggerPrice: '',
      createdTime: 1672220109387,
      qty: '0.1',
      triggerDirection: 0,
    },
  ],
  kinds: [undefined],
};
// 2023-05 → current: a rejected PostOnly Buy on leg 1, status "Cancelled"; slippage, extraFees "",
// cumFeeDetail and rpi fields added over time (none is read).
const rejectedPostOnly: HistoryCase = {
  what: 'a rejected PostOnly Buy on leg 1 (orderStatus "Cancelled", triggerPrice "0.00")',
  positionIdx: 1,
  time: 1684766282976,
  entries: [
    {
      orderId: '14bad3a1-6454-43d8-bcf2-5345896cf74d',
      symbol: 'BTCUSDT',
      positionIdx: 1,
      side: 'Buy',
      orderStatus: 'Cancelled',
      reduceOnly: false,
      closeOnTrigger: false,
      stopOrderType: 'UNKNOWN',
      triggerPrice: '0.00',
      createdTime: 1684476068369,
      qty: '0.003',
      triggerDirection: 0,
    },
  ],
  kinds: [undefined],
};
const filledBuy: BybitOrder = {
  orderId: 'aee7453a-a100-465f-857a-3db780e9329a',
  symbol: 'BTCUSDT',
  positionIdx: 0,
  side: 'Buy',
  orderStatus: 'Filled',
  reduceOnly: false,
  closeOnTrigger: false,
  stopOrderType: '',
  triggerPrice: '',
  createdTime: 1757837580469,
  qty: '0.001',
  triggerDirection: 0,
};

const history: Record<string, HistoryCase> = {
  'bybitdocs-2022-12-cancelled-goodtillcancel.json': cancelledSell,
  'bybitdocs-2023-04-placetype-goodtillcancel.json': cancelledSell,
  'bybitdocs-2023-04-placetype-gtc.json': cancelledSell,
  'bybitdocs-2023-04-smp-goodtillcancel.json': cancelledSell,
  'bybitdocs-2023-04-smp-gtc.json': cancelledSell,
  'bybitdocs-2023-05-postonly-rejected.json': rejectedPostOnly,
  'bybitdocs-2025-02-slippage.json': rejectedPostOnly,
  'bybitdocs-2025-05-extrafees.json': rejectedPostOnly,
  'bybitdocs-2025-09-cumfeedetail.json': rejectedPostOnly,
  'bybitdocs-2026-05-current-rpi.json': rejectedPostOnly,
  'ccxt-fetchClosedOrder-linear.json': {
    what: 'a Filled market Buy',
    positionIdx: 0,
    time: 1758189954146,
    entries: [filledBuy],
    kinds: [undefined],
    ccxt: true,
  },
  'ccxt-fetchClosedOrders-linear.json': {
    what: 'a Filled reduceOnly Sell (a closing kind, left out as finished) and a Filled Buy',
    positionIdx: 0,
    time: 1758190052622,
    entries: [
      {
        ...filledBuy,
        orderId: 'f5f2d355-9a11-4af3-9b83-aa1d6ab6ddfe',
        side: 'Sell',
        reduceOnly: true,
        createdTime: 1757837618905,
        qty: '0.001',
        triggerDirection: 0,
      },
      filledBuy,
    ],
    kinds: ['reduce-only', undefined],
    ccxt: true,
  },
};

function fetchHistory() {
  const client = stubClient(stub.baseUrl);
  return callBybit(() => client.getHistoricOrders({ category: 'linear' }), HISTORY, stubRedactor);
}

describe('order-history fixtures (the adapter has no reader yet: envelope and order entry schema)', () => {
  it('every file in test/fixtures/bybit/order-history has a case here', () => {
    expect(fixtureFiles('order-history')).toEqual(Object.keys(history).sort());
  });

  for (const [file, c] of Object.entries(history)) {
    const recorded = fixtureResponse('order-history', file);
    if (c.ccxt === true) {
      it(`${file}: as recorded (retCode "0", time as strings) callBybit refuses it`, async () => {
        stub.handler = serveFixtures({ [HISTORY]: recorded });
        expect(await fetchHistory()).toEqual({
          ok: false,
          failure: { reason: 'schema-mismatch', detail: expect.stringContaining('not a V5 response') },
        });
      });
    }
    it(`${file}${c.ccxt === true ? " (Bybit's number types restored)" : ''}: ${c.what}`, async () => {
      stub.handler = serveFixtures({ [HISTORY]: c.ccxt === true ? withWireNumbers(recorded) : recorded });
      const reply = await fetchHistory();
      expect(reply).toMatchObject({ ok: true, time: c.time });
      expect(requestLines(stub.requests)).toEqual([HISTORY]);
      const entries = listResultSchema
        .parse(reply.ok ? reply.result : undefined)
        .list.map((raw) => orderEntrySchema.parse(raw));
      expect(entries).toEqual(c.entries);
      expect(entries.map(protectiveKindOf)).toEqual(c.kinds);
      // Finished orders: none would be a resting protective order.
      expect(entries.map((e) => toProtectiveOrder(e, c.positionIdx))).toEqual(entries.map(() => undefined));
    });
  }
});
