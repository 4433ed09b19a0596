import { describe, expect, it } from 'vitest';
import type { PositionChange, TrackedPosition } from '#core/types.js';
import {
  CLOSED_PNL_REQUEST,
  changesAt,
  EXECUTIONS_REQUEST,
  fixtureFiles,
  fixtureResponse,
  listAnswer,
  requestLines,
  serveFixtures,
  trackedPosition,
  useBybitStub,
  wsAsRestList,
} from '#test/support/bybit-stub.js';

/**
 * Every websocket execution push (test/fixtures/bybit/ws-execution) served as a REST execution list
 * through `fetchPositionChanges`, over HTTP against the in-process stub: stopguard reads REST only, so
 * this checks that the push shapes (closedSize absent / "" / "0", seq, extraFees as an array, a
 * duplicated key, a spot row) do not break or mislead the REST reader. Expected values read by hand.
 */

const stub = useBybitStub();

const tracked = trackedPosition;

const changesOf = (position: TrackedPosition, now: number) => changesAt(stub.baseUrl, position, now);

function pushOf(file: string): Record<string, unknown> {
  return wsAsRestList(fixtureResponse('ws-execution', file));
}

// --- docs 2022-12 → 2025-04: XRPUSDT Sell 25 (closedSize absent or ""), push at 1672364174455 --------
// The docs of the same era tell one story: the REST position list showed XRPUSDT Buy 100 (updated
// 1672279322668), this Sell 25 filled at 1672364174443, and the WS position push showed 75 at …449.
const XRP_TIME = 1672364174455;
const XRP_ORDER = 'f6e324ff-99c2-4e89-9739-3086e47f9381';
const long100 = tracked({ symbol: 'XRPUSDT', size: '100', stateUpdatedAt: 1672279322668 });
const xrpChange = (over: Partial<PositionChange>): PositionChange => ({
  id: '7e2ae69c-4edf-5800-a352-893d52b446aa',
  source: 'execution',
  time: 1672364174443,
  closedQty: '0',
  openedQty: '0',
  kind: 'manual',
  orderId: XRP_ORDER,
  ...over,
});
/** Not in the corpus: the closed-PnL record such a close would leave (closed-pnl fields the adapter reads). */
const xrpRecord = {
  symbol: 'XRPUSDT',
  orderId: XRP_ORDER,
  side: 'Sell',
  qty: '25',
  closedSize: '25',
  execType: 'Trade',
  createdTime: '1672364174443',
  updatedTime: '1672364174443',
};

const xrpPushes: Record<string, { readonly what: string; readonly seq?: number }> = {
  'bybitdocs-2022-12-no-closedsize.json': { what: 'closedSize ABSENT, no seq' },
  'bybitdocs-2023-04-closedsize-empty.json': { what: 'closedSize "", no seq' },
  'bybitdocs-2023-09-seq-number.json': { what: 'closedSize "", seq 4688002127', seq: 4688002127 },
  'bybitdocs-2024-09-duplicate-execvalue.json': {
    what: 'execValue written twice (JSON.parse keeps "0"; not read), seq',
    seq: 4688002127,
  },
};

// --- docs 2025-05 → current: BTCUSDT closing Sell 0.5 with closedSize "0.5", seq 140612148849382 ------
const BTC_CLOSE_TIME = 1746270400355;
const BTC_CLOSE_AT = 1746270400353;
const btcClose: PositionChange = {
  id: '0ab1bdf7-4219-438b-b30a-32ec863018f7',
  source: 'execution',
  time: BTC_CLOSE_AT,
  sequence: 140612148849382,
  closedQty: '0.5',
  openedQty: '0',
  // createType "CreateByUser", stopOrderType "UNKNOWN".
  kind: 'manual',
  orderId: '9aac161b-8ed6-450d-9cab-c5cc67c21784',
};
const btcClosePushes: Record<string, string> = {
  'bybitdocs-2025-05-closing-fill-createtype.json': 'createType "CreateByUser", no extraFees',
  'bybitdocs-2025-07-extrafees-array.json': 'extraFees as an ARRAY of objects',
  'bybitdocs-2025-09-current-feecurrency.json': 'extraFees array, feeCurrency "USDT"',
};

// --- recordings ----------------------------------------------------------------------------------
interface RecordingCase {
  readonly what: string;
  readonly position: TrackedPosition;
  readonly time: number;
  readonly changes: readonly PositionChange[];
  readonly readsClosedPnl?: true;
}
const recordings: Record<string, RecordingCase> = {
  'crypto_cpp-ws-execution-2024-02.json': {
    what: 'Sell 0.003 with closedSize "0" adds to a tracked short',
    position: tracked({
      symbol: 'BTCUSDT',
      side: 'short',
      size: '0.001',
      stateUpdatedAt: 1708249213755 - 60_000,
      stateSequence: 8935822000,
    }),
    time: 1708249213759,
    changes: [
      {
        id: '8262dbfa-5434-51ed-8458-3b97d3d49b3a',
        source: 'execution',
        time: 1708249213755,
        sequence: 8935822012,
        closedQty: '0',
        openedQty: '0.003',
        kind: 'manual',
        orderId: 'b49d6860-3062-4295-aa1f-c6471f3c9b20',
      },
    ],
  },
  'roq-bybit-ws-execution-2023-05.json': {
    // The state: roq-bybit's ws-position push of the same account, BTCUSDT Buy 0.002 at 1682919303679.
    what: 'opening Buy 0.001 with closedSize "0", no seq, adds to the long roq-bybit pushed earlier',
    position: tracked({ symbol: 'BTCUSDT', size: '0.002', stateUpdatedAt: 1682919303679 }),
    time: 1682924344208,
    changes: [
      {
        id: 'a3333bcf-4d02-55f1-a9d2-08a5149064f4',
        source: 'execution',
        time: 1682924344203,
        closedQty: '0',
        openedQty: '0.001',
        kind: 'manual',
        orderId: '787dcaf8-84b4-44b7-b57c-71bdf1bd5420',
      },
    ],
  },
  'triarb-ws-execution-spot-topic-2023-11.json': {
    what:
      'a SPOT fill (category "spot", closedSize "") is not told apart from a linear one: closed-PnL is ' +
      'read and has no record, so the Buy only adds to a tracked BTCUSDT long',
    position: tracked({ symbol: 'BTCUSDT', size: '0.001', stateUpdatedAt: 1699764599837 - 60_000 }),
    time: 1699764599843,
    changes: [
      {
        id: '2100000000047469164',
        source: 'execution',
        time: 1699764599837,
        sequence: 1253141306,
        closedQty: '0',
        openedQty: '0.000306',
        kind: 'manual',
        orderId: '1552132392821724672',
      },
    ],
    readsClosedPnl: true,
  },
};

describe('ws-execution fixtures, served as a REST execution list', () => {
  it('every file in test/fixtures/bybit/ws-execution has a case here', () => {
    expect(fixtureFiles('ws-execution')).toEqual(
      [...Object.keys(xrpPushes), ...Object.keys(btcClosePushes), ...Object.keys(recordings)].sort(),
    );
  });

  for (const [file, c] of Object.entries(xrpPushes)) {
    const seq = c.seq === undefined ? {} : { sequence: c.seq };
    it(`${file}: ${c.what}: the Sell 25 closes the long 100 as far as closed-PnL confirms, else nothing`, async () => {
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: pushOf(file),
        [CLOSED_PNL_REQUEST]: listAnswer([xrpRecord], XRP_TIME),
      });
      expect(await changesOf(long100, XRP_TIME)).toEqual({
        status: 'known',
        searchedFrom: 1672279322668,
        searchedTo: XRP_TIME,
        changes: [xrpChange({ ...seq, source: 'closed-pnl', closedQty: '25' })],
      });
      expect(requestLines(stub.requests)).toEqual([EXECUTIONS_REQUEST, CLOSED_PNL_REQUEST]);

      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: pushOf(file),
        [CLOSED_PNL_REQUEST]: listAnswer([], XRP_TIME),
      });
      expect(await changesOf(long100, XRP_TIME)).toMatchObject({
        status: 'known',
        changes: [xrpChange({ ...seq })],
      });
    });

    it(`${file}: the WS position state after it (75 at …449${c.seq === undefined ? '' : ', same seq'}) sees no change, reads no closed-PnL`, async () => {
      stub.handler = serveFixtures({ [EXECUTIONS_REQUEST]: pushOf(file) });
      const after = tracked({
        symbol: 'XRPUSDT',
        size: '75',
        stateUpdatedAt: 1672364174449,
        ...(c.seq === undefined ? {} : { stateSequence: c.seq }),
      });
      expect(await changesOf(after, XRP_TIME)).toMatchObject({ status: 'known', changes: [] });
      expect(requestLines(stub.requests)).toEqual([EXECUTIONS_REQUEST]);
    });
  }

  for (const [file, what] of Object.entries(btcClosePushes)) {
    it(`${file}: ${what}: closedSize "0.5" closes the long 0.5 without closed-PnL`, async () => {
      stub.handler = serveFixtures({ [EXECUTIONS_REQUEST]: pushOf(file) });
      const long = tracked({
        symbol: 'BTCUSDT',
        size: '0.5',
        stateUpdatedAt: BTC_CLOSE_AT - 60_000,
        stateSequence: 140612148849000,
      });
      expect(await changesOf(long, BTC_CLOSE_TIME)).toEqual({
        status: 'known',
        searchedFrom: BTC_CLOSE_AT - 60_000,
        searchedTo: BTC_CLOSE_TIME,
        changes: [btcClose],
      });
      expect(requestLines(stub.requests)).toEqual([EXECUTIONS_REQUEST]);
      // Hedge: the Sell closes leg 1; it closed something, so it is not leg 2's.
      expect(await changesOf({ ...long, positionIdx: 1 }, BTC_CLOSE_TIME)).toMatchObject({
        changes: [btcClose],
      });
      expect(await changesOf({ ...long, positionIdx: 2, side: 'short' }, BTC_CLOSE_TIME)).toMatchObject({
        status: 'known',
        changes: [],
      });
    });
  }

  for (const [file, c] of Object.entries(recordings)) {
    it(`${file}: ${c.what}`, async () => {
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: pushOf(file),
        ...(c.readsClosedPnl === true ? { [CLOSED_PNL_REQUEST]: listAnswer([], c.time) } : {}),
      });
      expect(await changesOf(c.position, c.time)).toEqual({
        status: 'known',
        searchedFrom: c.position.stateUpdatedAt,
        searchedTo: c.time,
        changes: c.changes,
      });
      expect(requestLines(stub.requests)).toEqual(
        c.readsClosedPnl === true ? [EXECUTIONS_REQUEST, CLOSED_PNL_REQUEST] : [EXECUTIONS_REQUEST],
      );
    });
  }

  it('crypto_cpp-ws-execution-2024-02.json on hedge legs: a Sell that closed 0 is not leg 1 (long) and opens leg 2', async () => {
    const c = recordings['crypto_cpp-ws-execution-2024-02.json'];
    if (c === undefined) throw new Error('case missing');
    stub.handler = serveFixtures({ [EXECUTIONS_REQUEST]: pushOf('crypto_cpp-ws-execution-2024-02.json') });
    expect(await changesOf({ ...c.position, positionIdx: 1, side: 'long' }, c.time)).toMatchObject({
      status: 'known',
      changes: [],
    });
    expect(await changesOf({ ...c.position, positionIdx: 2 }, c.time)).toMatchObject({
      status: 'known',
      changes: c.changes,
    });
  });
});
