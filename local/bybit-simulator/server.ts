/** The simulator's HTTP layer: Bybit V5 routing, authentication, rate limits and request-level faults. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_RECV_WINDOW, signatureMatches, signV5, timestampAccepted } from './auth.js';
import { type EndpointContext, handlers, type Params } from './endpoints.js';
import type { SimExchange } from './exchange.js';
import {
  type FaultInjector,
  PRIVATE_ENDPOINTS,
  type PrivateEndpoint,
  type PublicEndpoint,
  type RequestFaults,
  type SimEndpoint,
} from './faults.js';
import { instrumentsInfo } from './instruments.js';
import type { RateLimiter, RateLimitStatus } from './rate-limit.js';
import { SimRejection } from './rejection.js';

/** Requests per account and endpoint, whatever their outcome: the raw material of cost figures. */
export type RequestCounts = Record<string, Partial<Record<SimEndpoint, number>>>;

/** Requests whose API key matched no account are counted under this name. */
export const UNKNOWN_ACCOUNT = '(unknown key)';
/** Public market requests carry no key: they are counted (and their faults drawn) under this name. */
export const PUBLIC_CALLER = '(public)';

const POST_ENDPOINTS: ReadonlySet<PrivateEndpoint> = new Set(['/v5/order/cancel', '/v5/order/create']);

export interface HttpDeps {
  readonly exchange: SimExchange;
  readonly faults: FaultInjector;
  readonly limiter: RateLimiter;
  readonly clock: () => number;
  /** The clock request timestamps are checked against. */
  readonly authClock: () => number;
  /** Serves `/admin/*`; returns the JSON result or throws. */
  readonly admin: (method: string, body: unknown) => unknown;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The HTTP face of the simulator: Bybit V5 routing, authentication, rate limits and request-level
 * faults. Everything about positions and orders is delegated to the exchange via `endpoints.ts`.
 */
export class SimulatorHttp {
  private readonly counts: RequestCounts = {};
  /** Last successful answer per account, endpoint and query: what a `stale` fault replays. */
  private readonly lastAnswers = new Map<string, { retCode: number; retMsg: string; result: unknown }>();
  private readonly held = new Set<{ timer: NodeJS.Timeout; res: ServerResponse }>();

  constructor(private readonly deps: HttpDeps) {}

  requestCounts(): RequestCounts {
    return structuredClone(this.counts);
  }

  /** Ends every response a timeout fault is holding (for shutdown). */
  releaseHeld(): void {
    for (const hold of this.held) {
      clearTimeout(hold.timer);
      hold.res.destroy();
    }
    this.held.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? '' : rawUrl.slice(queryAt + 1);
    const body = await readBody(req);
    const method = req.method ?? 'GET';

    if (path.startsWith('/admin/')) return send(res, this.adminReply(method, path, body));
    if (method === 'GET' && path === '/v5/market/time') {
      const now = this.deps.clock();
      return send(
        res,
        this.envelope(0, 'OK', { timeSecond: String(Math.floor(now / 1000)), timeNano: `${now}000000` }, {}),
      );
    }
    if (method === 'GET' && path === '/v5/market/instruments-info')
      return this.handlePublic(res, path, rawQuery);
    const endpoint = PRIVATE_ENDPOINTS.find((e) => e === path);
    if (endpoint === undefined || method !== (POST_ENDPOINTS.has(endpoint) ? 'POST' : 'GET')) {
      return send(res, {
        status: 404,
        headers: { 'Content-Type': 'text/plain' },
        body: '404 page not found',
      });
    }
    return this.handlePrivate(req, res, endpoint, method, rawQuery, body);
  }

  /**
   * A public market request: no key, no signature, no per-account limit (Bybit limits these per IP).
   * Request-level faults apply only when aimed at the path (see `TargetedFault.endpoints`).
   */
  private handlePublic(res: ServerResponse, endpoint: PublicEndpoint, rawQuery: string): void {
    this.count(PUBLIC_CALLER, endpoint);
    const drawn = this.deps.faults.draw(PUBLIC_CALLER, endpoint);
    if (drawn.timeout) {
      this.hold(res, this.deps.faults.config.timeout.delayMs ?? 0);
      return;
    }
    send(res, this.publicReply(drawn, rawQuery));
  }

  private publicReply(drawn: RequestFaults, rawQuery: string): Reply {
    if (drawn.serverError !== undefined) return serverErrorReply(drawn.serverError);
    if (drawn.rateLimited) return this.envelope(10006, 'Too many visits!', {}, {});
    try {
      const params = Object.fromEntries(new URLSearchParams(rawQuery));
      return this.envelope(0, 'OK', instrumentsInfo(this.deps.exchange.instruments, params), {});
    } catch (error) {
      if (!(error instanceof SimRejection)) throw error;
      return this.envelope(error.retCode, error.message, {}, {});
    }
  }

  private async handlePrivate(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: PrivateEndpoint,
    method: string,
    rawQuery: string,
    body: string,
  ): Promise<void> {
    const apiKey = header(req, 'x-bapi-api-key') ?? '';
    const timestamp = header(req, 'x-bapi-timestamp') ?? '';
    const recvWindow = header(req, 'x-bapi-recv-window') ?? String(DEFAULT_RECV_WINDOW);
    const sign = header(req, 'x-bapi-sign') ?? '';
    const account = this.deps.exchange.accountByApiKey(apiKey);
    this.count(account?.id ?? UNKNOWN_ACCOUNT, endpoint);
    if (!account) return send(res, this.envelope(10003, 'API key is invalid.', {}, {}));

    const now = this.deps.clock();
    const serverTime = this.deps.authClock();
    if (!timestampAccepted(Number(timestamp), Number(recvWindow), serverTime)) {
      const detail = `req_timestamp[${timestamp}],server_timestamp[${serverTime}],recv_window[${recvWindow}]`;
      const message = `invalid request, please check your server timestamp or recv_window param. ${detail}`;
      return send(res, this.envelope(10002, message, {}, this.peekHeaders(account.id, endpoint, now)));
    }
    const payload = method === 'GET' ? rawQuery : body;
    if (!signatureMatches(signV5(account.apiSecret, timestamp, apiKey, recvWindow, payload), sign)) {
      // Like Bybit, echo what should have been signed: it holds the key, never the secret.
      const origin = `${timestamp}${apiKey}${recvWindow}${payload}`;
      const headers = this.peekHeaders(account.id, endpoint, now);
      return send(res, this.envelope(10004, `error sign! origin_string[${origin}]`, {}, headers));
    }

    const drawn = this.deps.faults.draw(account.id, endpoint);
    const limit = this.deps.limiter.take(account.id, endpoint, now);
    const limitHeaders = rateLimitHeaders(limit);
    if (!limit.allowed) return send(res, this.envelope(10006, 'Too many visits!', {}, limitHeaders));
    if (drawn.serverError !== undefined) return send(res, serverErrorReply(drawn.serverError));
    if (drawn.rateLimited) {
      const exhausted = this.deps.limiter.exhausted(endpoint, now);
      return send(res, this.envelope(10006, 'Too many visits!', {}, rateLimitHeaders(exhausted)));
    }

    let params: Params;
    try {
      params = method === 'GET' ? Object.fromEntries(new URLSearchParams(rawQuery)) : parseJsonObject(body);
    } catch {
      return send(res, this.envelope(10001, 'params error: body is not a JSON object', {}, limitHeaders));
    }
    const config = this.deps.faults.config;
    const mutation = method === 'POST';
    if (drawn.timeout) {
      if (mutation && config.timeout.applyMutations !== false)
        this.run(endpoint, account.id, params, false, now);
      return this.hold(res, config.timeout.delayMs ?? 0);
    }
    const staleKey = `${account.id}\u0000${endpoint}\u0000${canonicalQuery(params)}`;
    const previous = this.lastAnswers.get(staleKey);
    if (drawn.stale && !mutation && previous) {
      return send(res, this.envelope(previous.retCode, previous.retMsg, previous.result, limitHeaders));
    }
    const answer = this.run(endpoint, account.id, params, drawn.truncate, now);
    if (!mutation && answer.retCode === 0) this.lastAnswers.set(staleKey, answer);
    return send(res, this.envelope(answer.retCode, answer.retMsg, answer.result, limitHeaders));
  }

  private run(
    endpoint: PrivateEndpoint,
    accountId: string,
    params: Params,
    truncate: boolean,
    now: number,
  ): { retCode: number; retMsg: string; result: unknown } {
    const ctx: EndpointContext = {
      exchange: this.deps.exchange,
      faults: this.deps.faults,
      accountId,
      now,
      historyVisibleUntil: now - this.deps.faults.config.historyLagMs,
      truncate,
    };
    try {
      return { retCode: 0, retMsg: 'OK', result: handlers[endpoint](ctx, params) };
    } catch (error) {
      if (error instanceof SimRejection) return { retCode: error.retCode, retMsg: error.message, result: {} };
      const message = error instanceof Error ? error.message : String(error);
      return { retCode: 10001, retMsg: `params error: ${message}`, result: {} };
    }
  }

  private hold(res: ServerResponse, delayMs: number): void {
    const hold = {
      res,
      timer: setTimeout(() => {
        this.held.delete(hold);
        res.destroy();
      }, delayMs),
    };
    this.held.add(hold);
    res.on('close', () => {
      clearTimeout(hold.timer);
      this.held.delete(hold);
    });
  }

  private adminReply(method: string, path: string, body: string): Reply {
    const name = path.slice('/admin/'.length);
    const json = (status: number, value: unknown): Reply => ({
      status,
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify(value),
    });
    try {
      if (method === 'GET' && name === 'ground-truth')
        return json(200, { ok: true, result: this.deps.admin('groundTruth', {}) });
      if (method !== 'POST')
        return json(405, { ok: false, error: 'admin methods are POST (or GET /admin/ground-truth)' });
      const input = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
      const result = this.deps.admin(name, input);
      return json(200, { ok: true, result: result ?? null });
    } catch (error) {
      return json(400, { ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private peekHeaders(accountId: string, endpoint: PrivateEndpoint, now: number): Record<string, string> {
    return rateLimitHeaders(this.deps.limiter.peek(accountId, endpoint, now));
  }

  private envelope(retCode: number, retMsg: string, result: unknown, headers: Record<string, string>): Reply {
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      body: JSON.stringify({ retCode, retMsg, result, retExtInfo: {}, time: this.deps.clock() }),
    };
  }

  private count(accountId: string, endpoint: SimEndpoint): void {
    const perAccount = this.counts[accountId] ?? {};
    perAccount[endpoint] = (perAccount[endpoint] ?? 0) + 1;
    this.counts[accountId] = perAccount;
  }
}

function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  return {
    'X-Bapi-Limit': String(status.limit),
    'X-Bapi-Limit-Status': String(status.remaining),
    'X-Bapi-Limit-Reset-Timestamp': String(status.resetAt),
  };
}

function serverErrorReply(status: 502 | 503): Reply {
  const title = status === 502 ? '502 Bad Gateway' : '503 Service Temporarily Unavailable';
  return {
    status,
    headers: { 'Content-Type': 'text/html' },
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
  };
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonObject(body: string): Params {
  const value: unknown = body.trim() === '' ? {} : JSON.parse(body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
  return value as Params;
}

/** The query with its parameters in a fixed order, so the same query always maps to the same key. */
function canonicalQuery(params: Params): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${String(params[k])}`)
    .join('&');
}
