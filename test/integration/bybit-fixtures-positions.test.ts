import { describe, expect, it } from 'vitest';
import type { ObservedPosition, PositionIdx } from '#core/types.js';
import {
  fixtureFiles,
  fixtureResponse,
  requestLines,
  serveFixtures,
  stubSession,
  useBybitStub,
  withWireNumbers,
  wsAsRestList,
} from '#test/support/bybit-stub.js';
import { recheckPosition } from '#test/support/session-views.js';

/**
 * Every recorded position answer (test/fixtures/bybit/position-list, and the websocket position pushes
 * of ws-position served as a REST list) through `fetchOpenPositions` and `recheckPosition`, over HTTP
 * against the in-process stub. Expected values are read off each fixture by hand.
 */

const stub = useBybitStub();
/** Our clock; only a refused answer (no exchange time) is dated with it. */
const NOW = 1_800_000_000_000;

interface PositionCase {
  /** What the fixture shows that matters here. */
  readonly what: string;
  readonly category: 'linear' | 'inverse';
  /** The envelope `time` (or the push's `creationTime`): `fetchedAt` and `checkedAt`. */
  readonly time: number;
  /** The one open row, as an ObservedPosition. */
  readonly open?: ObservedPosition;
  /** The one row, when it is size 0: not a position; a re-check of its leg is `flat`. */
  readonly flat?: { readonly symbol: string; readonly positionIdx: PositionIdx };
  /** A ccxt recording: numbers written as strings by ccxt's recorder (README). */
  readonly ccxt?: true;
  /** For a bare ws data element (no push, so no creationTime): the time to serve it with. */
  readonly wsTime?: number;
}

// docs/v5/position/position.mdx, 2022-12 → 2023-04: linear XRPUSDT Buy 100, no seq.
const xrp100: ObservedPosition = {
  symbol: 'XRPUSDT',
  positionIdx: 0,
  side: 'long',
  size: '100',
  updatedAt: 1672279322668,
  // stopLoss "" and trailingStop "0": no position-level stop.
  protection: { markPrice: '0.3432', entryPrice: '0.3615' },
};
const xrpDocs: PositionCase = {
  what: 'linear XRPUSDT Buy 100; the cursor on its 1-row page costs no second request',
  category: 'linear',
  time: 1672280219169,
  open: xrp100,
};
// 2023-05 → 2023-09: inverse BTCUSD Sell 299.
const btcusd299: ObservedPosition = {
  symbol: 'BTCUSD',
  positionIdx: 0,
  side: 'short',
  size: '299',
  updatedAt: 1684742400015,
  // stopLoss and trailingStop "0.00": none.
  protection: { markPrice: '26926.00', entryPrice: '30004.5006751' },
};
// 2023-10 → current: inverse BTCUSD Sell 300 with seq.
const btcusd300: PositionCase = {
  what: 'inverse BTCUSD Sell 300, seq 5723621632',
  category: 'inverse',
  time: 1697684980172,
  open: {
    symbol: 'BTCUSD',
    positionIdx: 0,
    side: 'short',
    size: '300',
    updatedAt: 1697673600012,
    sequence: 5723621632,
    protection: { markPrice: '28224.50', entryPrice: '27464.50441675' },
  },
};

const positionList: Record<string, PositionCase> = {
  'bybitdocs-2022-12-initial-activeprice.json': xrpDocs,
  'bybitdocs-2023-01-no-activeprice.json': xrpDocs,
  'bybitdocs-2023-03-adlrank.json': xrpDocs,
  'bybitdocs-2023-05-inverse-btcusd.json': {
    what: 'inverse BTCUSD Sell 299, no seq: no sequence',
    category: 'inverse',
    time: 1684767531904,
    open: btcusd299,
  },
  'bybitdocs-2023-09-positionstatus-classic.json': {
    what: 'positionStatus "Classic" (not in the enum, not read)',
    category: 'inverse',
    time: 1684767531904,
    open: btcusd299,
  },
  'bybitdocs-2023-09-seq-number.json': {
    what: 'seq as a JSON number becomes the sequence',
    category: 'inverse',
    time: 1684767531904,
    open: { ...btcusd299, sequence: 4688002127 },
  },
  'bybitdocs-2023-10-isreduceonly-mmrsys.json': btcusd300,
  'bybitdocs-2024-03-curRealisedPnl-sessionAvgPrice.json': btcusd300,
  'bybitdocs-2025-07-positionIMByMp.json': btcusd300,
  'bybitdocs-2026-01-current-breakeven.json': btcusd300,
  'ccxt-fetchPosition-empty-ltcusdt.json': {
    what: 'empty LTCUSDT (side "", size "0")',
    category: 'linear',
    time: 1706628043244,
    flat: { symbol: 'LTCUSDT', positionIdx: 0 },
    ccxt: true,
  },
  'ccxt-fetchPositions-linear-ltcusdt.json': {
    what: 'LTCUSDT Buy 1.2, seq "15411084098" as a string',
    category: 'linear',
    time: 1699976566190,
    open: {
      symbol: 'LTCUSDT',
      positionIdx: 0,
      side: 'long',
      size: '1.2',
      updatedAt: 1699948800031,
      sequence: 15411084098,
      protection: { markPrice: '71.1', entryPrice: '64.59947917' },
    },
    ccxt: true,
  },
  'roq-bybit-positions-ack-2023-04.json': {
    what: 'real 2023-04 answer, BTCUSDT Buy 0.002, no seq, liqPrice "0.10"',
    category: 'linear',
    time: 1682687025633,
    open: {
      symbol: 'BTCUSDT',
      positionIdx: 0,
      side: 'long',
      size: '0.002',
      updatedAt: 1682668800070,
      protection: { markPrice: '29252.90', entryPrice: '32685.25' },
    },
  },
};

// docs/v5/websocket/private/position.mdx, 2022-12 → 2023-09: XRPUSDT Buy 75 (entryPrice, not avgPrice).
const xrpPush: PositionCase = {
  what: 'XRPUSDT Buy 75',
  category: 'linear',
  time: 1672364174455,
  // A push names the entry `entryPrice`, which the REST reader does not take for `avgPrice`.
  open: {
    symbol: 'XRPUSDT',
    positionIdx: 0,
    side: 'long',
    size: '75',
    updatedAt: 1672364174449,
    protection: { markPrice: '0.3374' },
  },
};
// 2023-10 → current: an empty short hedge leg (side "", size "0", positionIdx 2).
const emptyLegPush: PositionCase = {
  what: 'empty BTCUSDT leg 2 (side "", size "0") is no position; its re-check is flat',
  category: 'linear',
  time: 1697682317044,
  flat: { symbol: 'BTCUSDT', positionIdx: 2 },
};

const wsPosition: Record<string, PositionCase> = {
  'bybitdocs-2022-12-initial-partial.json': { ...xrpPush, what: 'XRPUSDT Buy 75, tpslMode "Partial"' },
  'bybitdocs-2023-02-no-positionbalance.json': xrpPush,
  'bybitdocs-2023-03-adlrank.json': xrpPush,
  'bybitdocs-2023-05-tpslmode-full.json': xrpPush,
  'bybitdocs-2023-06-positionbalance-back.json': xrpPush,
  'bybitdocs-2023-09-positionstatus-classic.json': { ...xrpPush, what: 'XRPUSDT Buy 75, "Classic" status' },
  'bybitdocs-2023-09-seq-number.json': {
    ...xrpPush,
    what: 'XRPUSDT Buy 75 with seq',
    open: {
      symbol: 'XRPUSDT',
      positionIdx: 0,
      side: 'long',
      size: '75',
      updatedAt: 1672364174449,
      sequence: 4688002127,
      protection: { markPrice: '0.3374' },
    },
  },
  'bybitdocs-2023-10-empty-position.json': emptyLegPush,
  'bybitdocs-2024-03-curRealisedPnl-sessionAvgPrice.json': emptyLegPush,
  'bybitdocs-2025-07-positionIMByMp.json': emptyLegPush,
  'bybitdocs-2026-01-current-breakeven.json': emptyLegPush,
  'roq-bybit-ws-position-linear-2023-05.json': {
    what: 'real push spelling "tpSlMode": BTCUSDT Buy 0.002',
    category: 'linear',
    time: 1682919303680,
    open: {
      symbol: 'BTCUSDT',
      positionIdx: 0,
      side: 'long',
      size: '0.002',
      updatedAt: 1682919303679,
      protection: { markPrice: '28502.11' },
    },
  },
  'roq-bybit-ws-position-side-none-2023-05.json': {
    what: 'real empty position with side "None", size "0": flat',
    category: 'linear',
    time: 1683003561820,
    flat: { symbol: 'BTCUSDT', positionIdx: 0 },
  },
  'trading-toolbox-ws-position-data-element-2024-06.json': {
    what: 'bare data element (served with its updatedTime as time): FTMUSDT Buy 10 on hedge leg 1',
    category: 'linear',
    time: 1719181270938,
    wsTime: 1719181270938,
    open: {
      symbol: 'FTMUSDT',
      positionIdx: 1,
      side: 'long',
      size: '10',
      updatedAt: 1719181270938,
      sequence: 107793890205,
      protection: { markPrice: '0.5944' },
    },
  },
};

/** Serves `body` on GET /v5/position/list and checks both readers against the case. */
async function expectRead(body: unknown, c: PositionCase): Promise<void> {
  stub.handler = serveFixtures({ 'GET /v5/position/list': body });
  const session = stubSession(stub.baseUrl, { category: c.category, clock: { now: () => NOW } });
  expect(await session.fetchOpenPositions()).toEqual({
    status: 'complete',
    snapshotId: 'snap-1',
    fetchedAt: c.time,
    pages: 1,
    positions: c.open === undefined ? [] : [c.open],
  });
  // One page only: a short page ends the list whatever cursor it carries.
  expect(requestLines(stub.requests)).toEqual(['GET /v5/position/list']);
  expect(stub.requests[0]?.query.get('category')).toBe(c.category);
  // Linear lists by settle coin (default USDT); inverse lists without one.
  expect(stub.requests[0]?.query.get('settleCoin')).toBe(c.category === 'linear' ? 'USDT' : null);

  const leg = c.open ?? c.flat;
  if (leg === undefined) throw new Error('a case names its open or flat row');
  expect(await recheckPosition(session, leg.symbol, leg.positionIdx)).toEqual(
    c.open === undefined
      ? { status: 'flat', checkedAt: c.time }
      : { status: 'open', checkedAt: c.time, position: c.open },
  );
  expect(stub.requests[1]?.query.get('symbol')).toBe(leg.symbol);
  // A leg the answer does not list is absent, not flat.
  const otherLeg: PositionIdx = leg.positionIdx === 1 ? 2 : 1;
  expect(await recheckPosition(session, leg.symbol, otherLeg)).toEqual({
    status: 'absent',
    checkedAt: c.time,
  });
}

describe('position-list fixtures', () => {
  it('every file in test/fixtures/bybit/position-list has a case here', () => {
    expect(fixtureFiles('position-list')).toEqual(Object.keys(positionList).sort());
  });

  for (const [file, c] of Object.entries(positionList)) {
    if (c.ccxt === true) {
      it(`${file}: as recorded (retCode "0", time as strings) is refused as unknown`, async () => {
        stub.handler = serveFixtures({ 'GET /v5/position/list': fixtureResponse('position-list', file) });
        const session = stubSession(stub.baseUrl, { category: c.category, clock: { now: () => NOW } });
        const snapshot = await session.fetchOpenPositions();
        expect(snapshot).toEqual({
          status: 'unknown',
          snapshotId: 'snap-1',
          fetchedAt: NOW,
          pages: 0,
          positions: [],
          failure: { reason: 'schema-mismatch', detail: expect.stringContaining('not a V5 response') },
        });
        if (snapshot.status === 'unknown') expect(snapshot.failure.detail).toMatch(/retCode/);
        const leg = c.open ?? c.flat;
        expect(await recheckPosition(session, leg?.symbol ?? '', leg?.positionIdx ?? 0)).toMatchObject({
          status: 'unknown',
          checkedAt: NOW,
          failure: { reason: 'schema-mismatch' },
        });
      });
      it(`${file}: with Bybit's number types restored: ${c.what}`, async () => {
        await expectRead(withWireNumbers(fixtureResponse('position-list', file)), c);
      });
    } else {
      it(`${file}: ${c.what}`, async () => {
        await expectRead(fixtureResponse('position-list', file), c);
      });
    }
  }
});

describe('ws-position fixtures, served as a REST position list', () => {
  it('every file in test/fixtures/bybit/ws-position has a case here', () => {
    expect(fixtureFiles('ws-position')).toEqual(Object.keys(wsPosition).sort());
  });

  for (const [file, c] of Object.entries(wsPosition)) {
    it(`${file}: ${c.what}`, async () => {
      await expectRead(wsAsRestList(fixtureResponse('ws-position', file), c.wsTime), c);
    });
  }
});
