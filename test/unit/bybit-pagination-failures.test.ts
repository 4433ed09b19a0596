import { describe, expect, it } from 'vitest';
import {
  failureFromRetCode,
  failureFromThrown,
  isRetryable,
  redactorFor,
  resetTimestampFrom,
} from '#adapters/bybit/failures.js';
import { collectPages, type PageResult } from '#adapters/bybit/pagination.js';
import { callBybit } from '#adapters/bybit/transport.js';

const KEY = 'TESTKEY0000000000000';
const SECRET = 'TESTSECRET00000000000000000000000000';
const redact = redactorFor([KEY, SECRET]);

/** Serves scripted pages keyed by the cursor asked for. */
function script<T>(pages: Record<string, PageResult<T>>) {
  const asked: (string | undefined)[] = [];
  const fetchPage = async (cursor: string | undefined): Promise<PageResult<T>> => {
    asked.push(cursor);
    const page = pages[cursor ?? ''];
    if (page === undefined) throw new Error(`unscripted cursor ${cursor}`);
    return page;
  };
  return { fetchPage, asked };
}

const ok = <T>(items: T[], nextCursor: string, time = 1_000): PageResult<T> => ({
  ok: true,
  items,
  nextCursor,
  time,
});

describe('collectPages', () => {
  it('follows cursors to an empty cursor and reports the first page time', async () => {
    const { fetchPage, asked } = script({
      '': ok([1, 2], 'c1', 1_000),
      c1: ok([3], 'c2', 1_050),
      c2: ok([4], '', 1_090),
    });
    const out = await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 1, what: 'list' });
    expect(out).toEqual({ items: [1, 2, 3, 4], pages: 3, firstTime: 1_000 });
    expect(asked).toEqual([undefined, 'c1', 'c2']);
  });

  it('an empty first page with no cursor is an honest empty list', async () => {
    const { fetchPage } = script({ '': ok<number>([], '') });
    expect(await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 1, what: 'list' })).toEqual({
      items: [],
      pages: 1,
      firstTime: 1_000,
    });
  });

  it('an exactly full last page with a cursor ends at the empty page it leads to', async () => {
    const { fetchPage, asked } = script({ '': ok([1, 2], 'c1'), c1: ok<number>([], 'c1') });
    const out = await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 2, what: 'list' });
    expect(out).toEqual({ items: [1, 2], pages: 2, firstTime: 1_000 });
    expect(asked).toEqual([undefined, 'c1']);
  });

  it('without endOnShortPage, a short page with a cursor is followed to the empty page (a lost entry costs no older page)', async () => {
    const { fetchPage, asked } = script({ '': ok([3, 2], 'c1'), c1: ok([1], 'c2'), c2: ok<number>([], '') });
    const out = await collectPages(fetchPage, { maxPages: 10, what: 'fills' });
    expect(out).toEqual({ items: [3, 2, 1], pages: 3, firstTime: 1_000 });
    expect(asked).toEqual([undefined, 'c1', 'c2']);
  });

  it('a short page ends the listing whatever cursor it carries (Bybit sends one on last pages)', async () => {
    const { fetchPage, asked } = script({ '': ok([1, 2], 'updateAt%3D1672279322668') });
    const out = await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 200, what: 'list' });
    expect(out).toEqual({ items: [1, 2], pages: 1, firstTime: 1_000 });
    expect(asked).toEqual([undefined]);
  });

  it('a repeating cursor is a loop', async () => {
    const { fetchPage } = script({ '': ok([1], 'c1'), c1: ok([2], 'c2'), c2: ok([3], 'c1') });
    const out = await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 1, what: 'list' });
    expect(out.failure?.reason).toBe('cursor-loop');
    expect(out.items).toEqual([1, 2, 3]);
  });

  it('more than maxPages ends the walk at the page limit', async () => {
    let n = 0;
    const out = await collectPages(async () => ok([n], `c${++n}`), {
      maxPages: 5,
      endOnShortPage: 1,
      what: 'list',
    });
    expect(out.failure?.reason).toBe('page-limit');
    expect(out.pages).toBe(5);
  });

  it('a failing page fails the listing, keeping earlier pages and the page valid entries', async () => {
    const { fetchPage } = script<number>({
      '': ok([1], 'c1'),
      c1: { ok: false, items: [2], failure: { reason: 'schema-mismatch', detail: 'list.1.size: bad' } },
    });
    const out = await collectPages(fetchPage, { maxPages: 10, endOnShortPage: 1, what: 'list' });
    expect(out.items).toEqual([1, 2]);
    expect(out.pages).toBe(1);
    expect(out.failure).toEqual({ reason: 'schema-mismatch', detail: 'list.1.size: bad (page 2)' });
  });

  it('stops early once the caller found what it wanted', async () => {
    const { fetchPage, asked } = script({ '': ok([1, 2], 'c1') });
    const out = await collectPages(fetchPage, {
      maxPages: 10,
      endOnShortPage: 2,
      what: 'list',
      stopWhen: (i) => i.includes(2),
    });
    expect(out.failure).toBeUndefined();
    expect(asked).toEqual([undefined]);
  });
});

describe('failure classification', () => {
  it('redacts a key that a long message would have cut in two, before shortening it', () => {
    for (let at = 280; at <= 305; at++) {
      const message = `${'x'.repeat(at)}${KEY} and ${SECRET}`;
      for (const failure of [
        failureFromThrown(message, 'ctx', redact),
        failureFromThrown({ code: 'ECONNRESET', message }, 'ctx', redact),
        failureFromThrown(
          { code: 500, message: 'err', body: { retCode: 10004, retMsg: message } },
          'ctx',
          redact,
        ),
      ]) {
        for (const secret of [KEY, SECRET])
          for (let cut = 8; cut <= secret.length; cut++)
            expect(failure.detail).not.toContain(secret.slice(0, cut));
      }
    }
  });

  it.each([
    [10006, 'rate-limited'],
    [10429, 'rate-limited'],
    [10002, 'clock-skew'],
    [10003, 'auth-error'],
    [10004, 'auth-error'],
    [33004, 'auth-error'],
    [10005, 'auth-error'],
    [10000, 'timeout'],
    [10001, 'exchange-error'],
    [10016, 'exchange-error'],
  ])('retCode %i → %s', (code, reason) => {
    const failure = failureFromRetCode(code, 'msg', 'GET /v5/position/list', redact);
    expect(failure.reason).toBe(reason);
    expect(failure.exchangeCode).toBe(code);
  });

  it('a rate limit carries the reset timestamp; other failures do not', () => {
    expect(failureFromRetCode(10006, 'Too many visits!', 'x', redact, 1_700_000_001_000).retryAt).toBe(
      1_700_000_001_000,
    );
    expect(failureFromRetCode(10001, 'bad', 'x', redact, 1_700_000_001_000)).not.toHaveProperty('retryAt');
  });

  it('clock skew says what to do about it', () => {
    expect(
      failureFromRetCode(10002, 'invalid request, please check your server timestamp', 'x', redact).detail,
    ).toMatch(/recv_window.*NTP/);
  });

  it('reads the reset header whatever its casing', () => {
    expect(resetTimestampFrom({ 'X-Bapi-Limit-Reset-Timestamp': '1700000000123' })).toBe(1_700_000_000_123);
    expect(resetTimestampFrom({ 'x-bapi-limit-reset-timestamp': 1_700_000_000_123 })).toBe(1_700_000_000_123);
    expect(resetTimestampFrom({})).toBeUndefined();
    expect(resetTimestampFrom(undefined)).toBeUndefined();
  });

  it('classifies what RestClientV5 throws: HTTP errors, timeouts, network errors, strings', () => {
    // The library's HTTP error shape; requestOptions holds the credentials.
    const http = (code: number, body: unknown = '', headers: unknown = {}) => ({
      code,
      message: 'status text',
      body,
      headers,
      requestOptions: { key: KEY, secret: SECRET },
    });
    expect(failureFromThrown(http(503), 'ctx', redact).reason).toBe('http-error');
    // 403 bans the address, not the account: a different failure, acted on fleet-wide.
    expect(failureFromThrown(http(403), 'ctx', redact).reason).toBe('ip-banned');
    expect(
      failureFromThrown(http(403, '', { 'X-Bapi-Limit-Reset-Timestamp': '1700000600000' }), 'ctx', redact),
    ).toMatchObject({ reason: 'ip-banned', retryAt: 1_700_000_600_000 });
    expect(
      failureFromThrown(http(429, '', { 'x-bapi-limit-reset-timestamp': '1700000009000' }), 'ctx', redact),
    ).toMatchObject({ reason: 'rate-limited', retryAt: 1_700_000_009_000 });
    expect(
      failureFromThrown(http(401, { retCode: 10003, retMsg: 'API key is invalid.' }), 'ctx', redact),
    ).toMatchObject({
      reason: 'auth-error',
      exchangeCode: 10003,
    });
    expect(
      failureFromThrown({ code: 'ECONNABORTED', message: 'timeout of 500ms exceeded' }, 'ctx', redact).reason,
    ).toBe('timeout');
    expect(
      failureFromThrown({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'ctx', redact).reason,
    ).toBe('http-error');
    expect(
      failureFromThrown('Private endpoints require api and private keys set', 'ctx', redact).reason,
    ).toBe('http-error');
  });

  it('never lets the key or secret into a detail', () => {
    const leaky = { code: 500, message: `boom ${KEY}`, body: { retCode: 10016, retMsg: `oops ${SECRET}` } };
    const details = [
      failureFromThrown(leaky, `ctx ${KEY}`, redact).detail,
      failureFromThrown(`${SECRET} thrown`, 'ctx', redact).detail,
      failureFromRetCode(10004, `sign ${SECRET}`, KEY, redact).detail,
    ];
    for (const detail of details) {
      expect(detail).not.toContain(KEY);
      expect(detail).not.toContain(SECRET);
    }
  });

  it('decides retryability: not for refused keys or rejected requests', () => {
    expect(isRetryable({ reason: 'auth-error', detail: '' })).toBe(false);
    expect(isRetryable({ reason: 'exchange-error', detail: '', exchangeCode: 10001 })).toBe(false);
    expect(isRetryable({ reason: 'exchange-error', detail: '', exchangeCode: 10016 })).toBe(true);
    expect(isRetryable({ reason: 'http-error', detail: 'ctx: HTTP 404 Not Found' })).toBe(false);
    expect(isRetryable({ reason: 'http-error', detail: 'ctx: HTTP 502 Bad Gateway' })).toBe(true);
    expect(isRetryable({ reason: 'timeout', detail: '' })).toBe(true);
    expect(isRetryable({ reason: 'rate-limited', detail: '' })).toBe(true);
  });
});

describe('callBybit', () => {
  it('passes a retCode 0 response through with the exchange time', async () => {
    const out = await callBybit(
      async () => ({ retCode: 0, retMsg: 'OK', result: { list: [] }, time: 5 }),
      'ctx',
      redact,
    );
    expect(out).toEqual({ ok: true, result: { list: [] }, time: 5 });
  });

  it('turns a 10006 with parsed rate-limit headers into rate-limited with retryAt', async () => {
    const out = await callBybit(
      async () => ({
        rateLimitApi: { remainingRequests: 0, maxRequests: 10, resetAtTimestamp: 1_700_000_002_000 },
        retCode: 10006,
        retMsg: 'Too many visits!',
        result: {},
        time: 1_700_000_001_000,
      }),
      'ctx',
      redact,
    );
    expect(out).toEqual({
      ok: false,
      failure: expect.objectContaining({
        reason: 'rate-limited',
        retryAt: 1_700_000_002_000,
        exchangeCode: 10006,
      }),
    });
  });

  it('dates an address ban that names no end ten minutes from when it was seen', async () => {
    const banned = await callBybit(
      () => Promise.reject({ code: 403, message: 'Forbidden', body: 'access too frequent', headers: {} }),
      'ctx',
      redact,
      () => 1_700_000_000_000,
    );
    expect(banned).toEqual({
      ok: false,
      failure: expect.objectContaining({ reason: 'ip-banned', retryAt: 1_700_000_600_000 }),
    });
  });

  it('never throws: a rejection or a non-V5 body is a typed failure', async () => {
    const rejected = await callBybit(() => Promise.reject(new Error('socket hang up')), 'ctx', redact);
    expect(rejected).toMatchObject({ ok: false, failure: { reason: 'http-error' } });
    const html = await callBybit(async () => '<html>502</html>', 'ctx', redact);
    expect(html).toMatchObject({ ok: false, failure: { reason: 'schema-mismatch' } });
    const noTime = await callBybit(async () => ({ retCode: 0, retMsg: 'OK', result: {} }), 'ctx', redact);
    expect(noTime).toMatchObject({ ok: false, failure: { reason: 'schema-mismatch' } });
  });
});
