import { describe, expect, it } from 'vitest';
import type { PositionChange, TrackedPosition } from '#core/types.js';
import {
  CLOSED_PNL_DOCS_CURSOR,
  CLOSED_PNL_REQUEST,
  changesAt,
  EXECUTIONS_REQUEST,
  firstListRow,
  fixtureFiles,
  fixtureResponse,
  listAnswer,
  requestLines,
  serveFixtures,
  trackedPosition,
  useBybitStub,
  withWireNumbers,
} from '#test/support/bybit-stub.js';

/**
 * Every recorded `GET /v5/execution/list` answer (test/fixtures/bybit/execution-list) through
 * `fetchPositionChanges`, over HTTP against the in-process stub; a blank `closedSize` makes the adapter
 * read `GET /v5/position/closed-pnl` too (the closed-pnl fixtures have their own suite). Expected
 * values are read off each fixture by hand.
 */

const stub = useBybitStub();
const tracked = trackedPosition;

const changesOf = (position: TrackedPosition, now: number) => changesAt(stub.baseUrl, position, now);

// --- execution-list ----------------------------------------------------------------------------

// docs/v5/order/execution.mdx: one ETHPERP Buy 0.1 (an opening fill) whose closedSize is absent or "".
const ETH_TIME = 1672283754510;
const ETH_CURSOR = '132766%3A2%2C132766%3A2';
const ETH_FILL_AT = 1672282722429;
const ETH_ORDER = '8c065341-7b52-4ca9-ac2c-37e31ac55c94';
const ethChange = (over: Partial<PositionChange> = {}): PositionChange => ({
  id: 'e0cbe81d-0f18-5866-9415-cf319b5dab3b',
  source: 'execution',
  time: ETH_FILL_AT,
  closedQty: '0',
  openedQty: '0.1',
  // stopOrderType "UNKNOWN", no createType: a hand-placed order.
  kind: 'manual',
  orderId: ETH_ORDER,
  ...over,
});
// closed-pnl/bybitdocs-2022-12: an ETHPERP close of ANOTHER order (5a373bfe…), with a cursor.

const ethDocs: Record<string, { readonly what: string; readonly seq?: number }> = {
  'bybitdocs-2022-12-no-closedsize.json': { what: 'closedSize ABSENT, no seq' },
  'bybitdocs-2023-04-closedsize-empty.json': { what: 'closedSize "", no seq' },
  'bybitdocs-2023-09-seq-number.json': { what: 'closedSize "", seq 4688002127', seq: 4688002127 },
  'bybitdocs-2024-01-feecurrency.json': { what: 'feeCurrency "", seq', seq: 4688002127 },
  'bybitdocs-2025-05-current-extrafees.json': { what: 'extraFees "" (string), seq', seq: 4688002127 },
};

interface RecordedCase {
  readonly what: string;
  readonly position: TrackedPosition;
  /** The envelope time (our clock is set to it). */
  readonly time: number;
  readonly changes: readonly PositionChange[];
  /** Requests after the first execution page. */
  readonly more: readonly string[];
  /** A blank closedSize makes the adapter read closed-PnL: served empty. */
  readonly readsClosedPnl?: true;
}

// ccxt recordings (numbers normalised to strings by ccxt) and roq-bybit's real answer.
const recorded: Record<string, RecordedCase> = {
  'ccxt-fetchFundingHistory-linear.json': {
    what: '14 Funding rows (closedSize "0", createType "") are not fills: no change, no closed-PnL read',
    position: tracked({ symbol: 'LTCUSDT', size: '0.1', stateUpdatedAt: 1710374400000 - 60_000 }),
    time: 1710959873731,
    changes: [],
    more: [`${EXECUTIONS_REQUEST} cursor=5774383%3A0%2C5771289%3A0`],
  },
  'ccxt-fetchMyTrades-linear-funding.json': {
    what: 'a Funding row (orderType "UNKNOWN", orderQty "0") is not a fill',
    position: tracked({ symbol: 'LTCUSDT', size: '1.2', stateUpdatedAt: 1699948800000 - 60_000 }),
    time: 1699976662476,
    changes: [],
    more: [`${EXECUTIONS_REQUEST} cursor=4485383%3A0%2C4485383%3A0`],
  },
  'ccxt-fetchMyTrades-linear-nosymbol.json': {
    what: 'an opening Buy 0.1 with closedSize "0" adds to the long (seq as a string)',
    position: tracked({ symbol: 'LTCUSDT', size: '0.1', stateUpdatedAt: 1710762918390 - 60_000 }),
    time: 1710762931079,
    changes: [
      {
        id: '751c8dba-bdeb-5d0c-9dd3-dda6bf98cdaf',
        source: 'execution',
        time: 1710762918390,
        sequence: 15961900053,
        closedQty: '0',
        openedQty: '0.1',
        kind: 'manual',
        orderId: 'c18b72e4-1bf7-4c30-9b99-ba3274066029',
      },
    ],
    more: [`${EXECUTIONS_REQUEST} cursor=5771350%3A2%2C5771350%3A2`],
  },
  'ccxt-fetchMyTrades-spot-btcusdt.json': {
    what:
      'a SPOT row (category "spot") is not told apart from a linear fill: its blank closedSize makes the ' +
      'adapter read closed-PnL, which has no record, so the Buy only adds to a tracked BTCUSDT long',
    position: tracked({ symbol: 'BTCUSDT', size: '0.001', stateUpdatedAt: 1699612608878 - 60_000 }),
    time: 1699976615982,
    changes: [
      {
        id: '2100000000047087120',
        source: 'execution',
        time: 1699612608878,
        sequence: 1251953666,
        closedQty: '0',
        openedQty: '0.000336',
        kind: 'manual',
        orderId: '1550857400238740992',
      },
    ],
    more: [`${EXECUTIONS_REQUEST} cursor=4159101%3A0%2C4159101%3A0`, CLOSED_PNL_REQUEST],
    readsClosedPnl: true,
  },
  'ccxt-fetchMyTrades-spot-nosymbol.json': {
    what: 'a SPOT Buy on a tracked ETHUSDT SHORT: blank closedSize and no closed-PnL record, so nothing closes',
    position: tracked({
      symbol: 'ETHUSDT',
      side: 'short',
      size: '0.001',
      stateUpdatedAt: 1710762303659 - 60_000,
    }),
    time: 1710762743905,
    changes: [
      {
        id: '2110000000034095620',
        source: 'execution',
        time: 1710762303659,
        sequence: 820177003,
        closedQty: '0',
        openedQty: '0',
        kind: 'manual',
        orderId: '1644387819067894016',
      },
    ],
    more: [`${EXECUTIONS_REQUEST} cursor=5771348%3A0%2C5771348%3A0`, CLOSED_PNL_REQUEST],
    readsClosedPnl: true,
  },
  'roq-bybit-executions-ack-funding-2023-04.json': {
    what: '3 real Funding rows (closedSize "0.000", synthetic orderId, no seq, last page): no change',
    position: tracked({ symbol: 'BTCUSDT', size: '0.002', stateUpdatedAt: 1682611200000 - 60_000 }),
    time: 1682694922390,
    changes: [],
    more: [],
  },
};

describe('execution-list fixtures', () => {
  it('every file in test/fixtures/bybit/execution-list has a case here', () => {
    expect(fixtureFiles('execution-list')).toEqual(
      [...Object.keys(ethDocs), ...Object.keys(recorded)].sort(),
    );
  });

  for (const [file, c] of Object.entries(ethDocs)) {
    const seq = c.seq === undefined ? {} : { sequence: c.seq };
    it(`${file}: ${c.what}: closed-PnL is read; the opening Buy adds 0.1 to a tracked long`, async () => {
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: fixtureResponse('execution-list', file),
        [CLOSED_PNL_REQUEST]: fixtureResponse('closed-pnl', 'bybitdocs-2022-12-createdtime-19digits.json'),
      });
      const position = tracked({ symbol: 'ETHPERP', size: '0.2', stateUpdatedAt: ETH_FILL_AT - 60_000 });
      expect(await changesOf(position, ETH_TIME)).toEqual({
        status: 'known',
        searchedFrom: ETH_FILL_AT - 60_000,
        searchedTo: ETH_TIME,
        // The closed-PnL record is another order's: it does not make this fill a close.
        changes: [ethChange(seq)],
      });
      expect(requestLines(stub.requests)).toEqual([
        EXECUTIONS_REQUEST,
        `${EXECUTIONS_REQUEST} cursor=${ETH_CURSOR}`,
        CLOSED_PNL_REQUEST,
        `${CLOSED_PNL_REQUEST} cursor=${CLOSED_PNL_DOCS_CURSOR}`,
      ]);
      // A pass on one symbol asks by that symbol; passes on several share one account-wide listing.
      expect(Object.fromEntries(stub.requests[2]?.query ?? [])).toEqual({
        category: 'linear',
        symbol: 'ETHPERP',
        startTime: String(ETH_FILL_AT - 60_000),
        limit: '100',
      });
    });

    it(`${file}: a state that already includes the fill (${c.seq === undefined ? 'same time' : 'same seq'}) sees no change and reads no closed-PnL`, async () => {
      stub.handler = serveFixtures({ [EXECUTIONS_REQUEST]: fixtureResponse('execution-list', file) });
      const position =
        c.seq === undefined
          ? tracked({ symbol: 'ETHPERP', size: '0.1', stateUpdatedAt: ETH_FILL_AT })
          : // The sequence decides, even though the state's time is before the fill's.
            tracked({
              symbol: 'ETHPERP',
              size: '0.1',
              stateUpdatedAt: ETH_FILL_AT - 60_000,
              stateSequence: c.seq,
            });
      expect(await changesOf(position, ETH_TIME)).toMatchObject({ status: 'known', changes: [] });
      expect(requestLines(stub.requests)).toEqual([
        EXECUTIONS_REQUEST,
        `${EXECUTIONS_REQUEST} cursor=${ETH_CURSOR}`,
      ]);
    });
  }

  it('bybitdocs-2023-04-closedsize-empty.json on a tracked SHORT 0.1: the Buy closes it only as far as closed-PnL confirms for its order', async () => {
    const close = {
      ...firstListRow('closed-pnl', 'bybitdocs-2022-12-createdtime-19digits.json'),
      orderId: ETH_ORDER,
      side: 'Buy',
      qty: '0.1',
      closedSize: '0.1',
    };
    const position = tracked({
      symbol: 'ETHPERP',
      side: 'short',
      size: '0.1',
      stateUpdatedAt: ETH_FILL_AT - 60_000,
    });
    stub.handler = serveFixtures({
      [EXECUTIONS_REQUEST]: fixtureResponse('execution-list', 'bybitdocs-2023-04-closedsize-empty.json'),
      [CLOSED_PNL_REQUEST]: listAnswer([close], ETH_TIME),
    });
    expect(await changesOf(position, ETH_TIME)).toMatchObject({
      status: 'known',
      changes: [ethChange({ source: 'closed-pnl', closedQty: '0.1', openedQty: '0' })],
    });
    // Without that record the same fill closes nothing: a blank closedSize is never read as a close.
    stub.handler = serveFixtures({
      [EXECUTIONS_REQUEST]: fixtureResponse('execution-list', 'bybitdocs-2023-04-closedsize-empty.json'),
      [CLOSED_PNL_REQUEST]: listAnswer([], ETH_TIME),
    });
    expect(await changesOf(position, ETH_TIME)).toMatchObject({
      status: 'known',
      changes: [ethChange({ closedQty: '0', openedQty: '0' })],
    });
  });

  for (const [file, c] of Object.entries(recorded)) {
    const isCcxt = file.startsWith('ccxt-');
    if (isCcxt) {
      it(`${file}: as recorded (retCode "0", time as strings) is refused as unknown`, async () => {
        stub.handler = serveFixtures({ [EXECUTIONS_REQUEST]: fixtureResponse('execution-list', file) });
        expect(await changesOf(c.position, c.time)).toEqual({
          status: 'unknown',
          searchedFrom: c.position.stateUpdatedAt,
          failure: { reason: 'schema-mismatch', detail: expect.stringContaining('not a V5 response') },
        });
      });
    }
    it(`${file}${isCcxt ? " (Bybit's number types restored)" : ''}: ${c.what}`, async () => {
      const body = fixtureResponse('execution-list', file);
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: isCcxt ? withWireNumbers(body) : body,
        ...(c.readsClosedPnl === true ? { [CLOSED_PNL_REQUEST]: listAnswer([], c.time) } : {}),
      });
      expect(await changesOf(c.position, c.time)).toEqual({
        status: 'known',
        searchedFrom: c.position.stateUpdatedAt,
        searchedTo: c.time,
        changes: c.changes,
      });
      expect(requestLines(stub.requests)).toEqual([EXECUTIONS_REQUEST, ...c.more]);
    });
  }
});
