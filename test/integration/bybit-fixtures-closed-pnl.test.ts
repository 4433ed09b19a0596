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
 * Every recorded `GET /v5/position/closed-pnl` answer (test/fixtures/bybit/closed-pnl) through
 * `fetchPositionChanges`: the execution list holds a fill of the record's order with a blank
 * `closedSize` (shaped on the docs' execution row), so the adapter must count the close from
 * closed-PnL. Over HTTP against the in-process stub; expected values read off each fixture by hand.
 */

const stub = useBybitStub();
const tracked = trackedPosition;

const changesOf = (position: TrackedPosition, now: number) => changesAt(stub.baseUrl, position, now);

interface ClosedPnlCase {
  readonly what: string;
  readonly symbol: string;
  readonly orderId: string;
  /** The closing order's side and what it closed (the record's `side`, `closedSize`). */
  readonly closedSize: string;
  /** The record's `updatedTime`: the synthetic fill's time. */
  readonly at: number;
  readonly time: number;
  readonly cursor: string;
}

const docsClose = {
  symbol: 'ETHPERP',
  orderId: '5a373bfe-188d-4913-9c81-d57ab5be8068',
  closedSize: '3',
  at: 1672214887236,
  time: 1672284129153,
  cursor: CLOSED_PNL_DOCS_CURSOR,
};
const closedPnl: Record<string, ClosedPnlCase> = {
  'bybitdocs-2022-12-createdtime-19digits.json': {
    ...docsClose,
    what: 'createdTime "1672214887231423699" (19 digits) does not break it: Sell closedSize 3 closes the long',
  },
  'bybitdocs-2025-02-current-createdtime-ms.json': {
    ...docsClose,
    what: 'Sell closedSize 3 closes the long',
  },
  'ccxt-fetchPositionHistory-linear.json': {
    what: 'Sell closedSize 0.001 closes the long',
    symbol: 'BTCUSDT',
    orderId: 'bcb03fc1-6bfe-4464-954c-4b017aea5286',
    closedSize: '0.001',
    at: 1724408566765,
    time: 1724408577788,
    cursor:
      'bcb03fc1-6bfe-4464-954c-4b017aea5286%3A1724408566765%2Cbcb03fc1-6bfe-4464-954c-4b017aea5286%3A1724408566765',
  },
};

/** A Sell fill of the record's order with a blank closedSize, shaped like the docs' execution row. */
function fillOf(c: ClosedPnlCase): Record<string, unknown> {
  const { seq: _seq, ...row } = firstListRow('execution-list', 'bybitdocs-2023-04-closedsize-empty.json');
  return {
    ...row,
    symbol: c.symbol,
    execId: `fill-of-${c.orderId}`,
    orderId: c.orderId,
    side: 'Sell',
    execQty: c.closedSize,
    closedSize: '',
    execTime: String(c.at),
  };
}

describe('closed-pnl fixtures, read for a fill of the same order whose closedSize is blank', () => {
  it('every file in test/fixtures/bybit/closed-pnl has a case here', () => {
    expect(fixtureFiles('closed-pnl')).toEqual(Object.keys(closedPnl).sort());
  });

  for (const [file, c] of Object.entries(closedPnl)) {
    const isCcxt = file.startsWith('ccxt-');
    const body = fixtureResponse('closed-pnl', file);
    const served = isCcxt ? withWireNumbers(body) : body;
    const position = tracked({ symbol: c.symbol, size: c.closedSize, stateUpdatedAt: c.at - 60_000 });
    const closeChange: PositionChange = {
      id: `fill-of-${c.orderId}`,
      source: 'closed-pnl',
      time: c.at,
      closedQty: c.closedSize,
      openedQty: '0',
      kind: 'manual',
      orderId: c.orderId,
    };

    it(`${file}${isCcxt ? " (Bybit's number types restored)" : ''}: ${c.what}`, async () => {
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: listAnswer([fillOf(c)], c.time),
        [CLOSED_PNL_REQUEST]: served,
      });
      expect(await changesOf(position, c.time)).toEqual({
        status: 'known',
        searchedFrom: c.at - 60_000,
        searchedTo: c.time,
        changes: [closeChange],
      });
      expect(requestLines(stub.requests)).toEqual([
        EXECUTIONS_REQUEST,
        CLOSED_PNL_REQUEST,
        `${CLOSED_PNL_REQUEST} cursor=${c.cursor}`,
      ]);
      // The position's symbol only; each fill is matched to its record by order id.
      expect(stub.requests[1]?.query.get('symbol')).toBe(position.symbol);
    });

    it(`${file}: on hedge legs the Sell closes leg 1 (long) and is not leg 2's (it closed, so it did not open a short)`, async () => {
      stub.handler = serveFixtures({
        [EXECUTIONS_REQUEST]: listAnswer([fillOf(c)], c.time),
        [CLOSED_PNL_REQUEST]: served,
      });
      expect(await changesOf({ ...position, positionIdx: 1 }, c.time)).toMatchObject({
        status: 'known',
        changes: [closeChange],
      });
      expect(await changesOf({ ...position, positionIdx: 2, side: 'short' }, c.time)).toMatchObject({
        status: 'known',
        changes: [],
      });
    });

    if (isCcxt) {
      it(`${file}: as recorded (retCode "0", time as strings) the evidence is unknown`, async () => {
        stub.handler = serveFixtures({
          [EXECUTIONS_REQUEST]: listAnswer([fillOf(c)], c.time),
          [CLOSED_PNL_REQUEST]: body,
        });
        expect(await changesOf(position, c.time)).toEqual({
          status: 'unknown',
          searchedFrom: c.at - 60_000,
          failure: {
            reason: 'schema-mismatch',
            detail: expect.stringMatching(/^GET \/v5\/position\/closed-pnl .*not a V5 response/),
          },
        });
      });
    }
  }
});
