import { describe, expect, it } from 'vitest';
import { protectiveKindOf, toProtectiveOrder } from '#adapters/bybit/mapping.js';
import { type BybitOrder, listResultSchema, orderEntrySchema } from '#adapters/bybit/schemas.js';
import type { PositionIdx, ProtectiveOrderKind } from '#core/types.js';
import {
  fixtureFiles,
  fixtureResponse,
  requestLines,
  serveFixtures,
  stubSession,
  useBybitStub,
  withWireNumbers,
} from '#test/support/bybit-stub.js';
import { protectiveOrdersOf } from '#test/support/session-views.js';

/**
 * Every recorded `GET /v5/order/realtime` answer (test/fixtures/bybit/order-realtime) through
 * `fetchProtectiveOrders`, over HTTP against the in-process stub, and its rows through the order entry
 * schema and mapping. Expected values read off each fixture by hand. No order in the corpus is a
 * resting protective order: each case says why it is left out (finished status, or an entry order).
 */

const stub = useBybitStub();
const REALTIME = 'GET /v5/order/realtime';
const NOW = 1_800_000_000_000;

interface OrderCase {
  readonly what: string;
  /** What fetchProtectiveOrders is asked for. */
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  /** The envelope time; absent when the body has none (then refused). */
  readonly time?: number;
  /** The fixture's nextPageCursor, followed to an empty page ("" = none). */
  readonly cursor: string;
  /** Each entry as the order entry schema must read it. */
  readonly entries: readonly BybitOrder[];
  /** The protective kind of each entry, status aside. */
  readonly kinds: readonly (ProtectiveOrderKind | undefined)[];
  readonly ccxt?: true;
}

// docs/v5/order/open-order.mdx 2022-12 → 2023-05: a Cancelled spot tpslOrder in the "realtime" list.
const spotTpsl: OrderCase = {
  what: 'a Cancelled spot tpslOrder (triggerBy "1192.5"): a closing type, left out for its finished status',
  symbol: 'ETHUSDT',
  positionIdx: 0,
  time: 1672219526294,
  cursor: '1321052653536515584%3A1672217748287%2C1321052653536515584%3A1672217748287',
  entries: [
    {
      orderId: '1321052653536515584',
      symbol: 'ETHUSDT',
      positionIdx: 0,
      side: 'Buy',
      orderStatus: 'Cancelled',
      reduceOnly: false,
      closeOnTrigger: false,
      stopOrderType: 'tpslOrder',
      triggerPrice: '1500',
      createdTime: 1672217748287,
      qty: '0.5',
      triggerDirection: 0,
    },
  ],
  kinds: ['reduce-only'],
};
// 2023-05 → current: a New linear entry order carrying TP/SL (takeProfit "2500.00", stopLoss "1500.00").
const linearEntry: OrderCase = {
  what: 'a New limit Buy on leg 1 with attached TP/SL is an entry order, not a protective one',
  symbol: 'ETHUSDT',
  positionIdx: 1,
  time: 1684765770483,
  cursor: 'page_args%3Dfd4300ae-7847-404e-b947-b46980a4d140%26symbol%3D6%26',
  entries: [
    {
      orderId: 'fd4300ae-7847-404e-b947-b46980a4d140',
      symbol: 'ETHUSDT',
      positionIdx: 1,
      side: 'Buy',
      orderStatus: 'New',
      reduceOnly: false,
      closeOnTrigger: false,
      stopOrderType: 'UNKNOWN',
      triggerPrice: '0.00',
      createdTime: 1684738540559,
      qty: '0.10',
      triggerDirection: 0,
    },
  ],
  kinds: [undefined],
};

const realtime: Record<string, OrderCase> = {
  'bybitdocs-2022-12-spot-tpslorder.json': spotTpsl,
  'bybitdocs-2023-04-placetype.json': spotTpsl,
  'bybitdocs-2023-04-smp.json': spotTpsl,
  'bybitdocs-2023-05-linear-unknown-stopordertype.json': linearEntry,
  'bybitdocs-2025-09-current-cumfeedetail.json': {
    ...linearEntry,
    what: `${linearEntry.what} (cumFeeDetail)`,
  },
  'ccxt-fetchOpenOrder-linear.json': {
    what: 'a New limit Buy (stopOrderType "", triggerPrice "") is an entry order',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    time: 1758189797405,
    cursor:
      '3606515b-e4d7-4ea4-b096-bb247d0661ae%3A1758189775648%2C3606515b-e4d7-4ea4-b096-bb247d0661ae%3A1758189775648',
    entries: [
      {
        orderId: '3606515b-e4d7-4ea4-b096-bb247d0661ae',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        side: 'Buy',
        orderStatus: 'New',
        reduceOnly: false,
        closeOnTrigger: false,
        stopOrderType: '',
        triggerPrice: '',
        createdTime: 1758189775648,
        qty: '0.001',
        triggerDirection: 0,
      },
    ],
    kinds: [undefined],
    ccxt: true,
  },
  'ccxt-fetchOrder-spot-buy-partiallyfilledcanceled.json': {
    what: 'a spot market Buy "PartiallyFilledCanceled": finished, and an entry order',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    time: 1706615640419,
    cursor: '1609602210852247040%3A1706615536016%2C1609602210852247040%3A1706615536016',
    entries: [
      {
        orderId: '1609602210852247040',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        side: 'Buy',
        orderStatus: 'PartiallyFilledCanceled',
        reduceOnly: false,
        closeOnTrigger: false,
        stopOrderType: '',
        triggerPrice: '0.00',
        createdTime: 1706615536016,
        qty: '50.000000',
        triggerDirection: 0,
      },
    ],
    kinds: [undefined],
    ccxt: true,
  },
  'ccxt-fetchOrder-spot-sell-filled.json': {
    what: 'a spot market Sell "Filled" (triggerPrice "0.0000"): finished, and an entry order',
    symbol: 'XRPUSDT',
    positionIdx: 0,
    time: 1706615840224,
    cursor: '1609604284784580096%3A1706615783247%2C1609604284784580096%3A1706615783247',
    entries: [
      {
        orderId: '1609604284784580096',
        symbol: 'XRPUSDT',
        positionIdx: 0,
        side: 'Sell',
        orderStatus: 'Filled',
        reduceOnly: false,
        closeOnTrigger: false,
        stopOrderType: '',
        triggerPrice: '0.0000',
        createdTime: 1706615783247,
        qty: '123.00',
        triggerDirection: 0,
      },
    ],
    kinds: [undefined],
    ccxt: true,
  },
  'roq-bybit-orders-ack-empty.json': {
    what: 'no open orders (list [], cursor ""): known and empty, one request',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    time: 1682689733889,
    cursor: '',
    entries: [],
    kinds: [],
  },
  'roq-bybit-orders-ack-linear.json': {
    what: 'a real New limit Buy (stopOrderType "UNKNOWN", triggerPrice "0.00") is an entry order',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    time: 1682919058550,
    cursor: 'page_args%3Daf6512ea-74b0-4ac5-959a-9a52d4208b08%26',
    entries: [
      {
        orderId: 'af6512ea-74b0-4ac5-959a-9a52d4208b08',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        side: 'Buy',
        orderStatus: 'New',
        reduceOnly: false,
        closeOnTrigger: false,
        stopOrderType: 'UNKNOWN',
        triggerPrice: '0.00',
        createdTime: 1682917170023,
        qty: '0.001',
        triggerDirection: 0,
      },
    ],
    kinds: [undefined],
  },
  'roq-bybit-orders-ack-spot.json': {
    what: 'a body without "time" (ends after "result") is refused: unknown, "response without time"',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    cursor: '1410314510738196224',
    entries: [
      {
        orderId: '1410314510738196224',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        side: 'Buy',
        orderStatus: 'New',
        reduceOnly: false,
        closeOnTrigger: false,
        stopOrderType: '',
        triggerPrice: '',
        createdTime: 1682858590868,
        qty: '0.000040',
        triggerDirection: 0,
      },
    ],
    kinds: [undefined],
  },
};

/** The entries of a list `result` as the adapter's schemas read them, and what mapping makes of them. */
function expectEntries(result: unknown, c: OrderCase): void {
  const list = listResultSchema.parse(result);
  const entries = list.list.map((raw) => orderEntrySchema.parse(raw));
  expect(entries).toEqual(c.entries);
  expect(entries.map(protectiveKindOf)).toEqual(c.kinds);
  // None is a resting protective order of this leg: finished, or not protective.
  expect(entries.map((e) => toProtectiveOrder(e, c.positionIdx))).toEqual(entries.map(() => undefined));
}

describe('order-realtime fixtures', () => {
  it('every file in test/fixtures/bybit/order-realtime has a case here', () => {
    expect(fixtureFiles('order-realtime')).toEqual(Object.keys(realtime).sort());
  });

  for (const [file, c] of Object.entries(realtime)) {
    const recorded = fixtureResponse('order-realtime', file);
    const body = c.ccxt === true ? withWireNumbers(recorded) : recorded;
    if (c.ccxt === true) {
      it(`${file}: as recorded (retCode "0", time, positionIdx as strings) is refused as unknown`, async () => {
        stub.handler = serveFixtures({ [REALTIME]: recorded });
        const session = stubSession(stub.baseUrl, { clock: { now: () => NOW } });
        expect(await protectiveOrdersOf(session, c.symbol, c.positionIdx)).toEqual({
          status: 'unknown',
          failure: { reason: 'schema-mismatch', detail: expect.stringContaining('not a V5 response') },
        });
        // The rows too: positionIdx "0" is not an index.
        const row = (recorded as { result: { list: unknown[] } }).result.list[0];
        expect(orderEntrySchema.safeParse(row).success).toBe(false);
      });
    }
    it(`${file}${c.ccxt === true ? " (Bybit's number types restored)" : ''}: ${c.what}`, async () => {
      stub.handler = serveFixtures({ [REALTIME]: body });
      const session = stubSession(stub.baseUrl, { clock: { now: () => NOW } });
      const orders = await protectiveOrdersOf(session, c.symbol, c.positionIdx);
      if (c.time === undefined) {
        expect(orders).toEqual({
          status: 'unknown',
          failure: {
            reason: 'schema-mismatch',
            detail: 'GET /v5/order/realtime settleCoin=USDT: response without time (page 1)',
          },
        });
        expect(requestLines(stub.requests)).toEqual([REALTIME]);
      } else {
        expect(orders).toEqual({ status: 'known', orders: [] });
        // Order listings follow every cursor (no short-page rule): the fixture's cursor is asked once.
        expect(requestLines(stub.requests)).toEqual(
          c.cursor === '' ? [REALTIME] : [REALTIME, `${REALTIME} cursor=${c.cursor}`],
        );
      }
      // One listing of the account's orders per settle coin, all symbols.
      expect(stub.requests[0]?.query.get('symbol')).toBeNull();
      expect(stub.requests[0]?.query.get('settleCoin')).toBe('USDT');
      expectEntries((body as { result: unknown }).result, c);
    });
  }
});
