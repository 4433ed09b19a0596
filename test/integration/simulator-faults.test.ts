import { RestClientV5 } from 'bybit-api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BybitSimulator,
  createVirtualClock,
  type FaultConfig,
  noFaults,
  startBybitSimulator,
} from '#local/bybit-simulator/index.js';
import { decodeCursor } from '#local/bybit-simulator/pagination.js';

/** Every fault kind, observed through the real bybit-api SDK. */

const T0 = 1_767_225_600_000;
const ACCOUNT = { id: 'acct-1', apiKey: 'sim-key-1', apiSecret: 'sim-secret-1' };
const SYMBOLS = ['AAVEUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];

const running: BybitSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(faults: Partial<FaultConfig>, seed = 1) {
  const clock = createVirtualClock(T0);
  const sim = await startBybitSimulator({
    seed,
    clock: clock.now,
    authClock: Date.now,
    accounts: [ACCOUNT],
    faults: { ...noFaults, ...faults },
  });
  running.push(sim);
  for (const symbol of SYMBOLS) {
    sim.admin.openPosition({ accountId: ACCOUNT.id, symbol, side: 'Buy', qty: '1', price: '100' });
  }
  const api = new RestClientV5({
    baseUrl: sim.url,
    key: ACCOUNT.apiKey,
    secret: ACCOUNT.apiSecret,
    parseAPIRateLimits: true,
  });
  return { sim, clock, api };
}

const bulk = (api: RestClientV5, extra: { limit?: number; cursor?: string } = {}) =>
  api.getPositionInfo({ category: 'linear', settleCoin: 'USDT', ...extra });
const symbolsOf = (res: { result: { list: { symbol: string }[] } }) => res.result.list.map((p) => p.symbol);

describe('dropped positions (the incident)', () => {
  it('a bulk list silently omits an open position: retCode 0, normal cursor, the symbol query still sees it', async () => {
    const { sim, api } = await start({ dropPositions: { probability: 1, maxDropped: 1 } });
    const res = await bulk(api);
    expect(res).toMatchObject({ retCode: 0, retMsg: 'OK' });
    expect(res.result.list).toHaveLength(SYMBOLS.length - 1);
    // A normal cursor (one of ours, naming the page's last key), nothing that hints at the omission.
    expect(decodeCursor(res.result.nextPageCursor ?? '')).toMatch(/^[A-Z]+USDT#0$/);
    const [missing] = SYMBOLS.filter((s) => !symbolsOf(res).includes(s));
    const targeted = await api.getPositionInfo({ category: 'linear', symbol: missing ?? '' });
    expect(targeted.result.list).toMatchObject([{ symbol: missing, size: '1', side: 'Buy' }]);
    expect(sim.admin.positions(ACCOUNT.id)).toHaveLength(SYMBOLS.length);
  });

  it('drops up to maxDropped positions per response', async () => {
    const { api } = await start({ dropPositions: { probability: 1, maxDropped: 3 } });
    const counts = new Set<number>();
    for (let i = 0; i < 30; i++) counts.add((await bulk(api)).result.list.length);
    expect([...counts].sort()).toEqual([2, 3, 4]);
  });

  it('a correlated drop keeps omitting the same position for durationMs, re-checks included when asked', async () => {
    const { sim, clock, api } = await start({
      dropPositions: { probability: 1, maxDropped: 1 },
      correlatedDrop: { probability: 1, durationMs: 10_000, includeSymbolQueries: true },
    });
    const first = await bulk(api);
    const [missing] = SYMBOLS.filter((s) => !symbolsOf(first).includes(s));
    sim.admin.setFaults({ dropPositions: { probability: 0 } });
    clock.advance(9_999);
    expect(symbolsOf(await bulk(api))).not.toContain(missing);
    const recheck = await api.getPositionInfo({ category: 'linear', symbol: missing ?? '' });
    expect(recheck.result.list).toEqual([]);
    clock.advance(1);
    expect(symbolsOf(await bulk(api))).toEqual(SYMBOLS);
  });
});

describe('request-level faults', () => {
  it('truncated pagination: a cursor is given but the next page is empty with cursor ""', async () => {
    const { api } = await start({ truncatedPagination: { probability: 1 } });
    const first = await bulk(api, { limit: 2 });
    expect(first.result.list).toHaveLength(2);
    expect(first.result.nextPageCursor).not.toBe('');
    const second = await bulk(api, { limit: 2, cursor: first.result.nextPageCursor ?? '' });
    expect(second).toMatchObject({ retCode: 0, result: { list: [], nextPageCursor: '' } });
  });

  it('stale: the previous answer to the same query comes back, with the current time', async () => {
    const { sim, clock, api } = await start({});
    const before = await bulk(api);
    sim.admin.closePosition({ accountId: ACCOUNT.id, symbol: 'BTCUSDT' });
    sim.admin.setFaults({ stale: { probability: 1 } });
    clock.advance(5_000);
    const stale = await bulk(api);
    expect(stale.result).toEqual(before.result);
    expect(symbolsOf(stale)).toContain('BTCUSDT');
    expect(stale.time).toBe(T0 + 5_000);
    sim.admin.setFaults({ stale: { probability: 0 } });
    expect(symbolsOf(await bulk(api))).not.toContain('BTCUSDT');
  });

  it('server errors: HTTP 502/503 with a non-JSON body, only on the targeted endpoints', async () => {
    const { api } = await start({ serverError: { probability: 1, endpoints: ['/v5/position/list'] } });
    const failure = await bulk(api).then(
      () => undefined,
      (error: unknown) => error as { code: number; body: unknown },
    );
    expect([502, 503]).toContain(failure?.code);
    expect(typeof failure?.body).toBe('string');
    expect(() => JSON.parse(String(failure?.body))).toThrow();
    const orders = await api.getActiveOrders({ category: 'linear', settleCoin: 'USDT' });
    expect(orders.retCode).toBe(0);
  });

  it('timeout: the response is held past the client timeout; a cancel still takes effect', async () => {
    const { sim, api } = await start({ timeout: { probability: 1, delayMs: 5_000 } });
    const impatient = new RestClientV5(
      { baseUrl: sim.url, key: ACCOUNT.apiKey, secret: ACCOUNT.apiSecret },
      { timeout: 150 },
    );
    const started = Date.now();
    await expect(bulk(impatient)).rejects.toMatchObject({ code: 'ECONNABORTED' });
    expect(Date.now() - started).toBeLessThan(2_000);

    const sl = sim.admin.placeProtectiveOrder({
      accountId: ACCOUNT.id,
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    await expect(
      impatient.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: sl }),
    ).rejects.toBeDefined();
    expect(sim.admin.openOrders(ACCOUNT.id)).toEqual([]);
    expect(sim.admin.groundTruth().falseCancels.map((f) => f.orderId)).toEqual([sl]);
    void api;
  });

  it('timeout: after delayMs the connection is closed without an answer', async () => {
    const { api } = await start({ timeout: { probability: 1, delayMs: 100 } });
    await expect(bulk(api)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('injected rate limit: retCode 10006 "Too many visits!" with headers the SDK parses', async () => {
    const { api } = await start({ rateLimit: { probability: 1 } });
    const res = await bulk(api);
    expect(res).toMatchObject({ retCode: 10006, retMsg: 'Too many visits!' });
    expect(res.rateLimitApi).toEqual({ maxRequests: 50, remainingRequests: 0, resetAtTimestamp: T0 + 1000 });
  });
});

describe('history lag', () => {
  it('executions, closed PnL and order history appear historyLagMs after the fill; positions and open orders at once', async () => {
    const { sim, clock, api } = await start({ historyLagMs: 5_000 });
    const sl = sim.admin.placeProtectiveOrder({
      accountId: ACCOUNT.id,
      symbol: 'SOLUSDT',
      kind: 'stop-loss',
      triggerPrice: '90',
    });
    clock.advance(10_000);
    sim.admin.setPrice('SOLUSDT', '89');
    clock.advance(4_999);
    const fillsOf = async () =>
      (await api.getExecutionList({ category: 'linear', symbol: 'SOLUSDT' })).result.list.map(
        (e) => e.orderId,
      );
    const pnlOf = async () => (await api.getClosedPnL({ category: 'linear', symbol: 'SOLUSDT' })).result.list;
    const historyOf = async () =>
      (await api.getHistoricOrders({ category: 'linear', symbol: 'SOLUSDT' })).result.list.map(
        (o) => o.orderId,
      );

    expect(symbolsOf(await bulk(api))).not.toContain('SOLUSDT');
    expect((await api.getActiveOrders({ category: 'linear', symbol: 'SOLUSDT' })).result.list).toEqual([]);
    expect(await fillsOf()).not.toContain(sl);
    expect(await pnlOf()).toEqual([]);
    expect(await historyOf()).not.toContain(sl);

    clock.advance(1);
    expect(await fillsOf()).toContain(sl);
    expect(await pnlOf()).toHaveLength(1);
    expect(await historyOf()).toContain(sl);
  });
});

describe('determinism', () => {
  /** What a client sees over 25 polls of every page, under every non-blocking fault at once. */
  async function transcript(seed: number): Promise<string[]> {
    const { sim, clock, api } = await start(
      {
        dropPositions: { probability: 0.3, maxDropped: 2 },
        correlatedDrop: { probability: 0.5, durationMs: 3_000 },
        truncatedPagination: { probability: 0.2 },
        stale: { probability: 0.2 },
        serverError: { probability: 0.1 },
        rateLimit: { probability: 0.1 },
      },
      seed,
    );
    const seen: string[] = [];
    for (let poll = 0; poll < 25; poll++) {
      clock.advance(1_000);
      if (poll === 10) sim.admin.closePosition({ accountId: ACCOUNT.id, symbol: 'ETHUSDT' });
      let cursor: string | undefined;
      do {
        try {
          const res = await bulk(api, { limit: 2, ...(cursor ? { cursor } : {}) });
          const listed = res.retCode === 0 ? symbolsOf(res).join(',') : '-';
          seen.push(`${res.retCode} ${listed} ${res.time}`);
          cursor = res.retCode === 0 ? res.result.nextPageCursor : undefined;
        } catch (error) {
          seen.push(`http ${(error as { code?: number }).code ?? String(error)}`);
          cursor = undefined;
        }
      } while (cursor);
    }
    return seen;
  }

  it('the same seed gives the same sequence of responses; another seed does not', async () => {
    const first = await transcript(42);
    const again = await transcript(42);
    const other = await transcript(43);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    // The run exercised several faults, not just clean answers.
    expect(first.some((line) => line.startsWith('http 50'))).toBe(true);
    expect(first.some((line) => line.startsWith('10006'))).toBe(true);
  });
});
