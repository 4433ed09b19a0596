import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type BybitSessionConfig, createBybitSession } from '#adapters/bybit/bybit-session.js';
import { type Redactor, redactorFor } from '#adapters/bybit/failures.js';
import type { CloseEvidence, TrackedPosition } from '#core/types.js';
import type { Clock } from '#ports/clock.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { changesOf } from './session-views.js';

/**
 * An in-process HTTP stub of the Bybit V5 endpoints on 127.0.0.1, for driving the adapter (and the
 * real `RestClientV5` under it: signing, query building, header parsing, error paths) with exact
 * answers; plus loaders for the recorded answers in test/fixtures/bybit.
 */

export const STUB_KEY = 'STUBKEY0000000000001';
export const STUB_SECRET = 'STUBSECRET000000000000000000000000001';

export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly headers: IncomingHttpHeaders;
}
export interface StubReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** Sent as is when a string, else as JSON. */
  readonly body: unknown;
  readonly delayMs?: number;
}
export type StubHandler = (req: StubRequest) => StubReply;

export interface BybitStub {
  /** Set once the server listens (in `beforeAll`). */
  readonly baseUrl: string;
  /** Requests of the current test, in arrival order (cleared before each test). */
  readonly requests: StubRequest[];
  /** Answers every request; reset to a 404 before each test. */
  handler: StubHandler;
}

const notScripted: StubHandler = () => ({ status: 404, body: 'not scripted' });

/** Starts one stub server for the calling test file (vitest hooks) and returns its live handle. */
export function useBybitStub(): BybitStub {
  let server: Server | undefined;
  const stub = { baseUrl: '', requests: [] as StubRequest[], handler: notScripted };

  beforeAll(async () => {
    const started = createServer((req, res) => {
      let data = '';
      req.on('data', (chunk) => {
        data += chunk;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://stub');
        const request: StubRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          body: data === '' ? undefined : JSON.parse(data),
          headers: req.headers,
        };
        stub.requests.push(request);
        const reply = stub.handler(request);
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
          res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
        }, reply.delayMs ?? 0);
      });
    });
    server = started;
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    stub.baseUrl = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    const started = server;
    if (started === undefined) return;
    started.closeAllConnections();
    await new Promise((resolve) => started.close(resolve));
  });

  beforeEach(() => {
    stub.requests.length = 0;
    stub.handler = notScripted;
  });

  return stub;
}

/** Bybit's rate-limit headers (docs/v5/rate-limit): limit, remaining, reset time in exchange ms. */
export function limitHeaders(resetAt: number, remaining = 9, limit = 10): Record<string, string> {
  return {
    'X-Bapi-Limit': String(limit),
    'X-Bapi-Limit-Status': String(remaining),
    'X-Bapi-Limit-Reset-Timestamp': String(resetAt),
  };
}

/** A session on the stub with the stub's key; ids `snap-1`, `snap-2`, ... */
export function stubSession(
  baseUrl: string,
  over: Partial<BybitSessionConfig> & { readonly clock: Clock },
): ExchangeSession {
  let n = 0;
  return createBybitSession({
    baseUrl,
    apiKey: STUB_KEY,
    apiSecret: STUB_SECRET,
    requestTimeoutMs: 1_000,
    ids: { next: (prefix) => `${prefix}-${++n}` },
    ...over,
  });
}

/**
 * The REST client configured as the adapter configures it, on the stub: for endpoints the adapter
 * does not call yet, driven through `callBybit` (transport.ts) with `stubRedactor`.
 */
export function stubClient(baseUrl: string): RestClientV5 {
  return new RestClientV5(
    { baseUrl, key: STUB_KEY, secret: STUB_SECRET, recv_window: 5000, parseAPIRateLimits: true },
    { timeout: 1_000 },
  );
}
export const stubRedactor: Redactor = redactorFor([STUB_KEY, STUB_SECRET]);

/** A tracked one-way long of 1 unless told otherwise, last seen in the state it names. */
export function trackedPosition(
  over: Partial<TrackedPosition> & Pick<TrackedPosition, 'symbol' | 'stateUpdatedAt'>,
): TrackedPosition {
  return {
    accountId: 'acct-1',
    positionIdx: 0,
    side: 'long',
    size: '1',
    lastSeenOpenAt: over.stateUpdatedAt,
    lastSeenSnapshotId: 'snap-0',
    protectiveOrders: [],
    ...over,
  };
}

/** A one-page V5 list answer (last page: no cursor) of the given rows, at exchange time `time`. */
export function listAnswer(
  rows: readonly unknown[],
  time: number,
  category = 'linear',
): Record<string, unknown> {
  return {
    retCode: 0,
    retMsg: 'OK',
    result: { category, list: rows, nextPageCursor: '' },
    retExtInfo: {},
    time,
  };
}

// ---------------------------------------------------------------------------------------------
// The recorded corpus (test/fixtures/bybit/README.md): `{ source, response }` per file.

export const FIXTURE_ROOT = fileURLToPath(new URL('../fixtures/bybit/', import.meta.url));

/** The endpoint folders of the corpus, sorted. */
export function fixtureFolders(): string[] {
  return readdirSync(FIXTURE_ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** The `.json` files of one folder, sorted: what a suite must cover. */
export function fixtureFiles(folder: string): string[] {
  return readdirSync(`${FIXTURE_ROOT}${folder}`)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** The `response` of a fixture, parsed (a duplicate key keeps its last value, as JSON.parse does). */
export function fixtureResponse(folder: string, file: string): unknown {
  const parsed = JSON.parse(readFileSync(`${FIXTURE_ROOT}${folder}/${file}`, 'utf8')) as {
    response: unknown;
  };
  return parsed.response;
}

/** The first `result.list` row of a list fixture, to shape a row the corpus lacks on a real one. */
export function firstListRow(folder: string, file: string): Record<string, unknown> {
  const body = record(fixtureResponse(folder, file));
  const list = record(body.result).list;
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${folder}/${file}: no list rows`);
  return record(list[0]);
}

/** The `source` block of a fixture. */
export function fixtureSource(folder: string, file: string): Record<string, unknown> {
  const parsed = JSON.parse(readFileSync(`${FIXTURE_ROOT}${folder}/${file}`, 'utf8')) as {
    source: Record<string, unknown>;
  };
  return parsed.source;
}

function record(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`fixture: expected an object, got ${String(JSON.stringify(value)).slice(0, 80)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * A websocket push (`{ topic, creationTime, data: [...] }`) as the REST list answer stopguard reads:
 * `data` becomes `result.list`, the push's `creationTime` (or `ts`) the envelope `time`. A bare data
 * element (no push around it) is a one-row list; its time must then be given.
 */
export function wsAsRestList(push: unknown, time?: number): Record<string, unknown> {
  const p = record(push);
  const rows = Array.isArray(p.data) ? p.data : [p];
  const at = time ?? p.creationTime ?? p.ts;
  if (typeof at !== 'number') throw new Error('fixture: the push carries no creationTime/ts');
  const category = typeof record(rows[0]).category === 'string' ? record(rows[0]).category : 'linear';
  return {
    retCode: 0,
    retMsg: 'OK',
    result: { category, list: rows, nextPageCursor: '' },
    retExtInfo: {},
    time: at,
  };
}

/**
 * A ccxt recording with Bybit's wire types put back. ccxt's recorder wrote every number as a string
 * (README "Field types": retCode "0", time "...", positionIdx "0"); Bybit sends numbers. Only the
 * envelope's `retCode`/`time` and the rows' `positionIdx` are restored (the integers the adapter reads);
 * `seq` strings are left as recorded (the adapter accepts both spellings).
 */
export function withWireNumbers(body: unknown): Record<string, unknown> {
  const b = structuredClone(record(body));
  const toNumber = (v: unknown) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
  b.retCode = toNumber(b.retCode);
  b.time = toNumber(b.time);
  const result = b.result;
  if (result !== null && typeof result === 'object' && Array.isArray((result as { list?: unknown }).list)) {
    for (const row of (result as { list: unknown[] }).list) {
      const r = record(row);
      if ('positionIdx' in r) r.positionIdx = toNumber(r.positionIdx);
    }
  }
  return b;
}

/** The page a cursor leads to after a fixture's last page: empty, no cursor, same exchange time. */
function emptyPageAfter(body: unknown): Record<string, unknown> {
  const b = record(body);
  const result = record(b.result);
  return {
    retCode: 0,
    retMsg: 'OK',
    result: { category: result.category, list: [], nextPageCursor: '' },
    retExtInfo: {},
    time: b.time,
  };
}

/**
 * Serves fixture bodies by `"METHOD /path"`. A list fixture is one page: a request carrying a cursor
 * (the fixture's own `nextPageCursor`) gets the empty page Bybit gives past the end. Anything else
 * is a 404, which the adapter reports as a failure (so an unexpected request cannot pass silently).
 */
export function serveFixtures(
  routes: Record<string, unknown>,
  headers?: Record<string, string>,
): StubHandler {
  return (req) => {
    const body =
      routes[`${req.method} ${req.path}`] ?? (req.path === INSTRUMENTS_PATH ? btcInstrument : undefined);
    if (body === undefined) return { status: 404, body: 'not scripted' };
    const reply = req.query.get('cursor') === null ? body : emptyPageAfter(body);
    return headers === undefined ? { body: reply } : { headers, body: reply };
  };
}

/** The public read `placeStop` makes before a create: unless scripted, BTCUSDT as Bybit documents it (tick 0.10). */
export const INSTRUMENTS_PATH = '/v5/market/instruments-info';
export const INSTRUMENTS_REQUEST = `GET ${INSTRUMENTS_PATH}`;
const btcInstrument = {
  retCode: 0,
  retMsg: 'OK',
  result: {
    category: 'linear',
    list: [
      {
        symbol: 'BTCUSDT',
        status: 'Trading',
        priceFilter: { minPrice: '0.10', maxPrice: '1999999.80', tickSize: '0.10' },
      },
    ],
    nextPageCursor: '',
  },
  retExtInfo: {},
  time: 1_735_809_771_618,
};

/** `METHOD /path?cursor=...` per request, for asserting what the adapter asked. */
export function requestLines(requests: readonly StubRequest[]): string[] {
  return requests.map((r) => {
    const cursor = r.query.get('cursor');
    return `${r.method} ${r.path}${cursor === null ? '' : ` cursor=${cursor}`}`;
  });
}

/** How `requestLines` writes the two history listings `fetchPositionChanges` reads. */
export const EXECUTIONS_REQUEST = 'GET /v5/execution/list';
export const CLOSED_PNL_REQUEST = 'GET /v5/position/closed-pnl';

/**
 * The `nextPageCursor` of Bybit's documented closed-PnL answers (closed-pnl/bybitdocs-*, ETHPERP Sell 3
 * of order 5a373bfe…): it embeds the record's 19-digit createdTime.
 */
export const CLOSED_PNL_DOCS_CURSOR =
  '5a373bfe-188d-4913-9c81-d57ab5be8068%3A1672214887231423699%2C5a373bfe-188d-4913-9c81-d57ab5be8068%3A1672214887231423699';

/** `fetchPositionChanges` for `position` on a session over the stub at `baseUrl` whose clock reads `now`. */
export function changesAt(baseUrl: string, position: TrackedPosition, now: number): Promise<CloseEvidence> {
  return changesOf(stubSession(baseUrl, { clock: { now: () => now } }), position);
}
