import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SnapshotFailure, TrackedPosition } from '#core/types.js';
import {
  fixtureFiles,
  fixtureFolders,
  fixtureResponse,
  fixtureSource,
  type StubReply,
  stubSession,
  useBybitStub,
} from '#test/support/bybit-stub.js';
import { changesOf, protectiveOrdersOf, recheckPosition } from '#test/support/session-views.js';

/**
 * The rate-limit examples (test/fixtures/bybit/rate-limit): Bybit documents the headers
 * (`X-Bapi-Limit`, `X-Bapi-Limit-Status`, `X-Bapi-Limit-Reset-Timestamp`) and only a fragment of the
 * 10006 body (`retCode`, `retMsg`). Each is served to every session method over HTTP against the
 * in-process stub. Also: the corpus-wide check that every fixture folder has its suite.
 */

const stub = useBybitStub();
/** Our clock, just before the documented reset time. */
const NOW = 1672738134000;
/** `X-Bapi-Limit-Reset-Timestamp` of both header examples. */
const RESET_AT = 1672738134824;

/** Which suite covers each folder of test/fixtures/bybit (each suite also lists its folders' files). */
const SUITES: Record<string, string> = {
  'closed-pnl': 'bybit-fixtures-closed-pnl.test.ts',
  'execution-list': 'bybit-fixtures-executions.test.ts',
  'order-cancel': 'bybit-fixtures-writes.test.ts',
  'order-cancel-batch': 'bybit-fixtures-writes.test.ts',
  'order-create': 'bybit-fixtures-writes.test.ts',
  'order-history': 'bybit-fixtures-order-history.test.ts',
  'order-realtime': 'bybit-fixtures-orders.test.ts',
  'position-list': 'bybit-fixtures-positions.test.ts',
  'rate-limit': 'bybit-fixtures-rate-limit.test.ts',
  'trading-stop': 'bybit-fixtures-writes.test.ts',
  'ws-execution': 'bybit-fixtures-ws-executions.test.ts',
  'ws-position': 'bybit-fixtures-positions.test.ts',
};

describe('the Bybit fixture corpus', () => {
  it('every folder of test/fixtures/bybit has a suite, and every suite exists', () => {
    expect(fixtureFolders()).toEqual(Object.keys(SUITES).sort());
    for (const suite of new Set(Object.values(SUITES))) {
      expect(existsSync(fileURLToPath(new URL(`./${suite}`, import.meta.url))), suite).toBe(true);
    }
  });
});

/** The `X-Bapi-*` lines of a fixture's `source.headersExample` (Content-Type/Length are not served). */
function documentedHeaders(file: string): Record<string, string> {
  const text = fixtureSource('rate-limit', file).headersExample;
  if (typeof text !== 'string') throw new Error(`${file}: no headersExample`);
  const headers: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^(X-Bapi-[\w-]+):\s*(\S+)\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) headers[m[1]] = m[2];
  }
  return headers;
}

const fragment = fixtureResponse('rate-limit', 'bybitdocs-2025-03-retcode-10006-fragment.json');
/**
 * A whole 10006 answer: the documented fragment plus the `result`, `retExtInfo` and `time` every V5
 * body carries (the docs show none of them; their values are not read on a failure).
 */
const fullBody = { ...(fragment as object), result: {}, retExtInfo: {}, time: NOW };

const position: TrackedPosition = {
  accountId: 'acct-1',
  symbol: 'BTCUSDT',
  positionIdx: 0,
  side: 'long',
  size: '0.5',
  lastSeenOpenAt: NOW - 3_600_000,
  lastSeenSnapshotId: 'snap-0',
  stateUpdatedAt: NOW - 3_600_000,
  protectiveOrders: [],
};

/** Every session method on the same answer: each must be unknown (or a failed cancel) with `failure`. */
async function expectEveryMethod(reply: StubReply, failure: Partial<SnapshotFailure>): Promise<void> {
  stub.handler = () => reply;
  const session = stubSession(stub.baseUrl, { clock: { now: () => NOW } });
  const f = expect.objectContaining(failure);
  expect(await session.fetchOpenPositions()).toEqual({
    status: 'unknown',
    snapshotId: 'snap-1',
    fetchedAt: NOW,
    pages: 0,
    positions: [],
    failure: f,
  });
  expect(await recheckPosition(session, 'BTCUSDT', 0)).toEqual({
    status: 'unknown',
    checkedAt: NOW,
    failure: f,
  });
  expect(await changesOf(session, position)).toEqual({
    status: 'unknown',
    searchedFrom: position.stateUpdatedAt,
    failure: f,
  });
  expect(await protectiveOrdersOf(session, 'BTCUSDT', 0)).toEqual({ status: 'unknown', failure: f });
  const cancel = await session.cancelOrder('BTCUSDT', 'sl-1');
  expect(cancel).toMatchObject({ status: 'failed', orderId: 'sl-1', retryable: true });
  if (cancel.status === 'failed') {
    expect(cancel.exchangeCode).toBe(failure.exchangeCode);
    expect(cancel.retryAt).toBe(failure.retryAt);
  }
}

describe('rate-limit fixtures', () => {
  it('every file in test/fixtures/bybit/rate-limit has a case here', () => {
    expect(fixtureFiles('rate-limit')).toEqual([
      'bybitdocs-2023-01-headers-limit100.json',
      'bybitdocs-2025-03-retcode-10006-fragment.json',
      'bybitdocs-2026-02-headers-limit10.json',
    ]);
  });

  it.each([
    ['bybitdocs-2023-01-headers-limit100.json', '100', '99'],
    ['bybitdocs-2026-02-headers-limit10.json', '10', '9'],
  ])(
    '%s: a 10006 answer with these headers is rate-limited until the reset timestamp, on every method',
    async (file, limit, status) => {
      expect(fixtureResponse('rate-limit', file)).toBeNull();
      const headers = documentedHeaders(file);
      expect(headers).toEqual({
        'X-Bapi-Limit': limit,
        'X-Bapi-Limit-Status': status,
        'X-Bapi-Limit-Reset-Timestamp': String(RESET_AT),
      });
      await expectEveryMethod(
        { headers, body: fullBody },
        {
          reason: 'rate-limited',
          exchangeCode: 10006,
          retryAt: RESET_AT,
          detail: expect.stringContaining('Bybit retCode 10006 "Too many visits!"'),
        },
      );
    },
  );

  it('bybitdocs-2025-03-retcode-10006-fragment.json: retCode 10006 "Too many visits!" as a whole answer is rate-limited with retryAt', async () => {
    expect(fragment).toEqual({ retCode: 10006, retMsg: 'Too many visits!' });
    await expectEveryMethod(
      { headers: documentedHeaders('bybitdocs-2026-02-headers-limit10.json'), body: fullBody },
      { reason: 'rate-limited', exchangeCode: 10006, retryAt: RESET_AT },
    );
  });

  it('bybitdocs-2025-03-retcode-10006-fragment.json served verbatim (no result, no time) is never read as data: unknown everywhere', async () => {
    stub.handler = () => ({ body: fragment });
    const session = stubSession(stub.baseUrl, { clock: { now: () => NOW } });
    expect(await session.fetchOpenPositions()).toMatchObject({ status: 'unknown', positions: [] });
    expect(await recheckPosition(session, 'BTCUSDT', 0)).toMatchObject({ status: 'unknown' });
    expect(await changesOf(session, position)).toMatchObject({ status: 'unknown' });
    expect(await protectiveOrdersOf(session, 'BTCUSDT', 0)).toMatchObject({ status: 'unknown' });
    expect(await session.cancelOrder('BTCUSDT', 'sl-1')).toMatchObject({ status: 'failed', retryable: true });
  });

  it('bybitdocs-2025-03-retcode-10006-fragment.json served verbatim with the rate-limit headers is rate-limited until the reset', async () => {
    await expectEveryMethod(
      { headers: documentedHeaders('bybitdocs-2026-02-headers-limit10.json'), body: fragment },
      { reason: 'rate-limited', exchangeCode: 10006, retryAt: RESET_AT },
    );
  });
});
