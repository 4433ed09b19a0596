import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionIdOf } from '#core/keys.js';
import type { ObservedPosition, OpenProtectiveOrders, TrackedPosition } from '#core/types.js';
import {
  type BybitSimulator,
  createVirtualClock,
  type PrivateEndpoint,
} from '#local/bybit-simulator/index.js';
import { ordersOfSymbols } from '#orchestration/pass-orders.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { adapterSession, startOneAccountSimulator } from '#test/support/simulated-account.js';

/**
 * An account busier than a listing's page limit, over HTTP against the Bybit V5 simulator: a grid on
 * one symbol with more fills and more resting orders than `maxPages` pages hold. Account-wide walks
 * then end `unknown`; the positions of the quiet symbols must still get their evidence and orders,
 * or their orphans would never be cleaned.
 */

const T_START = Date.UTC(2026, 2, 2, 9, 0, 0);
const clock = createVirtualClock(T_START);
const ACCOUNT = { id: 'acct-busy', apiKey: 'sim-key-busy', apiSecret: 'sim-secret-busy-00000000000' };
/** 4 pages: 400 fills or 200 orders per listing. */
const MAX_PAGES = 4;
const GRID_FILLS = 450;
const GRID_ORDERS = 220;

let sim: BybitSimulator;
let quiet: TrackedPosition;
let calm: TrackedPosition;
let grid: TrackedPosition;

beforeAll(async () => {
  sim = await startOneAccountSimulator(ACCOUNT, 20260302, clock);
  const open = (symbol: string, qty: string, price: string) =>
    sim.admin.openPosition({ accountId: ACCOUNT.id, symbol, side: 'Buy', qty, price });
  sim.admin.setPrice('QUIETUSDT', '100');
  sim.admin.setPrice('CALMUSDT', '20');
  sim.admin.setPrice('GRIDUSDT', '5');
  open('QUIETUSDT', '1', '100');
  open('CALMUSDT', '3', '20');
  open('GRIDUSDT', '1', '5');
  // Each quiet position rests a stop-loss, which fires below, and a take-profit, which it orphans.
  for (const [symbol, stop, target] of [
    ['QUIETUSDT', '90', '120'],
    ['CALMUSDT', '18', '25'],
  ] as const) {
    sim.admin.placeProtectiveOrder({ accountId: ACCOUNT.id, symbol, kind: 'stop-loss', triggerPrice: stop });
    sim.admin.placeProtectiveOrder({
      accountId: ACCOUNT.id,
      symbol,
      kind: 'take-profit',
      triggerPrice: target,
    });
  }
  const snapshot = await sessionWith(MAX_PAGES).fetchOpenPositions();
  const tracked = (symbol: string) => {
    const seen = snapshot.positions.find((p) => p.symbol === symbol);
    if (seen === undefined) throw new Error(`${symbol} not listed`);
    return trackedFrom(seen, snapshot.fetchedAt);
  };
  [quiet, calm, grid] = [tracked('QUIETUSDT'), tracked('CALMUSDT'), tracked('GRIDUSDT')];

  // The grid trades all day and rests a ladder of reduce-only orders.
  for (let i = 0; i < GRID_FILLS; i++) {
    clock.advance(10);
    open('GRIDUSDT', '1', '5');
  }
  for (let i = 0; i < GRID_ORDERS; i++) {
    sim.admin.placeProtectiveOrder({
      accountId: ACCOUNT.id,
      symbol: 'GRIDUSDT',
      kind: 'stop-loss',
      triggerPrice: String(4 - i / 100),
      qty: '1',
    });
  }
  // The quiet positions' stops fire.
  clock.advance(1_000);
  sim.admin.setPrice('QUIETUSDT', '89');
  sim.admin.setPrice('CALMUSDT', '17');
  clock.advance(1_000);
});

afterAll(async () => {
  await sim?.close();
});

function trackedFrom(p: ObservedPosition, seenAt: number): TrackedPosition {
  return {
    accountId: ACCOUNT.id,
    symbol: p.symbol,
    positionIdx: p.positionIdx,
    side: p.side,
    size: p.size,
    lastSeenOpenAt: seenAt,
    lastSeenSnapshotId: 'snap-busy',
    stateUpdatedAt: p.updatedAt,
    ...(p.sequence === undefined ? {} : { stateSequence: p.sequence }),
    protectiveOrders: [],
  };
}

/** Requests the account sent to `endpoint` while `run` ran. */
async function requestsDuring(endpoint: PrivateEndpoint, run: () => Promise<unknown>): Promise<number> {
  const count = () => sim.admin.groundTruth().requestCounts[ACCOUNT.id]?.[endpoint] ?? 0;
  const before = count();
  await run();
  return count() - before;
}

const sessionWith = (maxPages: number): ExchangeSession => adapterSession(sim, ACCOUNT, clock, { maxPages });

describe('close evidence on an account busier than the page limit', () => {
  it('positions of quiet symbols get their closes although the account-wide walk ran out of pages', async () => {
    const busy = sessionWith(MAX_PAGES);
    let evidence: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      evidence = await busy.fetchPositionChanges([grid, quiet, calm]);
    });
    expect(evidence.get(positionIdOf(quiet))).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '1' }],
    });
    expect(evidence.get(positionIdOf(calm))).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '3' }],
    });
    // The grid, walked last (it had the most fills in the account-wide walk), gets what is left of one
    // more walk's pages: nothing. Unknown, never empty.
    expect(evidence.get(positionIdOf(grid))).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit' },
    });
    // The account-wide walk's 4 pages, then one more walk's worth shared by the symbols: a page and
    // the empty page after its cursor (Bybit sends one on a last page) for each quiet symbol, and
    // nothing left for the grid.
    expect(requests).toBe(MAX_PAGES + 2 + 2);
  });

  it('an account found too busy is walked per symbol straight away, with both walks of pages', async () => {
    const busy = sessionWith(MAX_PAGES);
    await busy.fetchPositionChanges([quiet, calm]);
    let evidence: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      evidence = await busy.fetchPositionChanges([quiet, calm]);
    });
    expect(evidence.get(positionIdOf(quiet))).toMatchObject({ status: 'known' });
    expect(evidence.get(positionIdOf(calm))).toMatchObject({ status: 'known' });
    // No account-wide walk this time: 2 pages per quiet symbol.
    expect(requests).toBe(4);
  });

  it('a symbol too busy on its own is walked after the others from then on, and takes no more than its limit', async () => {
    const busy = sessionWith(MAX_PAGES);
    await busy.fetchPositionChanges([quiet, calm]);
    const grid1 = await busy.fetchPositionChanges([grid, quiet, calm]);
    // Walked first (nothing known of it yet), the grid takes one listing's pages and no more.
    expect(grid1.get(positionIdOf(grid))).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit' },
    });
    expect(grid1.get(positionIdOf(calm))).toMatchObject({ status: 'known' });
    let again: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      again = await busy.fetchPositionChanges([grid, quiet, calm]);
    });
    expect(again.get(positionIdOf(quiet))).toMatchObject({ status: 'known' });
    expect(again.get(positionIdOf(calm))).toMatchObject({ status: 'known' });
    expect(again.get(positionIdOf(grid))).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit' },
    });
    // The quiet symbols' 2 pages each, then the grid's own limit.
    expect(requests).toBe(2 + 2 + MAX_PAGES);
  });

  it('a quiet symbol cut short by the allowance is not taken for a busy one: it gets its evidence at a later look', async () => {
    const tight = sessionWith(3);
    const first = await tight.fetchPositionChanges([grid, quiet, calm]);
    expect(first.get(positionIdOf(calm))).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit', detail: expect.stringContaining('went to its other symbols') },
    });
    const second = await tight.fetchPositionChanges([grid, quiet, calm]);
    const third = await tight.fetchPositionChanges([grid, quiet, calm]);
    // By the third look the grid is known to be busy and goes last; the quiet ones are read whole.
    expect([second, third].some((e) => e.get(positionIdOf(calm))?.status === 'known')).toBe(true);
    expect(third.get(positionIdOf(quiet))).toMatchObject({ status: 'known' });
    expect(third.get(positionIdOf(calm))).toMatchObject({ status: 'known' });
    expect(third.get(positionIdOf(grid))).toMatchObject({ status: 'unknown' });
  });

  it('a failing account-wide walk is not repeated per symbol: its failure is not about size', async () => {
    sim.admin.setFaults({ serverError: { probability: 1, endpoints: ['/v5/execution/list'] } });
    try {
      let evidence: ReadonlyMap<string, unknown> = new Map();
      const requests = await requestsDuring('/v5/execution/list', async () => {
        evidence = await sessionWith(MAX_PAGES).fetchPositionChanges([quiet, calm]);
      });
      expect([...evidence.values()]).toMatchObject([
        { status: 'unknown', failure: { reason: 'http-error' } },
        { status: 'unknown', failure: { reason: 'http-error' } },
      ]);
      expect(requests).toBe(1);
    } finally {
      sim.admin.setFaults({ serverError: { probability: 0, endpoints: ['/v5/execution/list'] } });
    }
  });

  it('one symbol is asked by that symbol: its own pages, however busy the rest of the account', async () => {
    let evidence: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      evidence = await sessionWith(MAX_PAGES).fetchPositionChanges([quiet]);
    });
    expect(evidence.get(positionIdOf(quiet))).toMatchObject({ status: 'known' });
    // Its page and the empty page after its cursor.
    expect(requests).toBe(2);
  });

  it('a walk that reaches its end is not repeated per symbol', async () => {
    const requests = await requestsDuring('/v5/execution/list', () =>
      sessionWith(10).fetchPositionChanges([quiet, calm]),
    );
    // 455 fills in pages of 100, then the empty page that ends the walk: no per-symbol walks.
    expect(requests).toBe(6);
  });
});

describe('protective orders on an account busier than the page limit', () => {
  it('a pass lists each symbol on its own once the settle coin listing runs out of pages', async () => {
    const busy = sessionWith(MAX_PAGES);
    expect(await busy.fetchProtectiveOrders(['QUIETUSDT', 'CALMUSDT'])).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit' },
    });
    let orders: ReadonlyMap<string, OpenProtectiveOrders> = new Map();
    const requests = await requestsDuring('/v5/order/realtime', async () => {
      orders = await ordersOfSymbols(busy, ['GRIDUSDT', 'QUIETUSDT', 'CALMUSDT']);
    });
    expect(orders.get('QUIETUSDT')).toMatchObject({
      status: 'known',
      orders: [{ symbol: 'QUIETUSDT', kind: 'take-profit' }],
    });
    expect(orders.get('CALMUSDT')).toMatchObject({
      status: 'known',
      orders: [{ symbol: 'CALMUSDT', kind: 'take-profit' }],
    });
    // The grid alone is past the limit: only its own positions wait.
    expect(orders.get('GRIDUSDT')).toMatchObject({ status: 'unknown', failure: { reason: 'page-limit' } });
    // The settle coin's 4 pages, the grid's 4, then a page and the empty one after it per quiet symbol.
    expect(requests).toBe(MAX_PAGES + MAX_PAGES + 2 + 2);
  });

  it('a failing listing is not repeated per symbol: its failure is not about size', async () => {
    sim.admin.setFaults({ serverError: { probability: 1, endpoints: ['/v5/order/realtime'] } });
    try {
      let orders: ReadonlyMap<string, OpenProtectiveOrders> = new Map();
      const requests = await requestsDuring('/v5/order/realtime', async () => {
        orders = await ordersOfSymbols(sessionWith(MAX_PAGES), ['QUIETUSDT', 'CALMUSDT']);
      });
      expect([...orders.values()]).toMatchObject([
        { status: 'unknown', failure: { reason: 'http-error' } },
        { status: 'unknown', failure: { reason: 'http-error' } },
      ]);
      expect(requests).toBe(1);
    } finally {
      sim.admin.setFaults({ serverError: { probability: 0, endpoints: ['/v5/order/realtime'] } });
    }
  });

  it('the whole account (the protection audit asks for it) stays unknown: nothing is concluded from a part', async () => {
    expect(await sessionWith(MAX_PAGES).fetchProtectiveOrders()).toMatchObject({
      status: 'unknown',
      failure: { reason: 'page-limit' },
    });
  });

  it('one symbol is listed by that symbol alone', async () => {
    const requests = await requestsDuring('/v5/order/realtime', async () => {
      expect(await sessionWith(MAX_PAGES).fetchProtectiveOrders(['QUIETUSDT'])).toMatchObject({
        status: 'known',
        orders: [{ symbol: 'QUIETUSDT', kind: 'take-profit' }],
      });
    });
    expect(requests).toBe(2);
  });
});
