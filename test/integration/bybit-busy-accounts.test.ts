import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBybitSession } from '#adapters/bybit/bybit-session.js';
import { positionIdOf } from '#core/keys.js';
import type { ObservedPosition, TrackedPosition } from '#core/types.js';
import {
  type BybitSimulator,
  createVirtualClock,
  noFaults,
  type PrivateEndpoint,
  startBybitSimulator,
} from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';

/**
 * An account busier than a listing's page limit, over HTTP against the Bybit V5 simulator: a grid on
 * one symbol with more fills and more resting orders than `maxPages` pages hold. Account-wide walks
 * then end `unknown`; the positions of the quiet symbols must still get their evidence and orders,
 * or their orphans would never be cleaned.
 */

const T_START = Date.UTC(2026, 2, 2, 9, 0, 0);
const clock = createVirtualClock(T_START);
const ACCOUNT = { id: 'acct-busy', apiKey: 'sim-key-busy', apiSecret: 'sim-secret-busy-00000000000' };
/** 2 pages: 200 fills or 100 orders per account-wide listing. */
const MAX_PAGES = 2;
const GRID_FILLS = 250;
const GRID_ORDERS = 120;

let sim: BybitSimulator;
let session: ExchangeSession;
let quiet: TrackedPosition;
let calm: TrackedPosition;
let grid: TrackedPosition;

beforeAll(async () => {
  sim = await startBybitSimulator({
    seed: 20260302,
    clock: clock.now,
    authClock: Date.now,
    rateLimitPerSecond: 0,
    faults: noFaults,
    accounts: [{ ...ACCOUNT, positionMode: 'one-way' }],
  });
  session = createBybitSession({
    baseUrl: sim.url,
    apiKey: ACCOUNT.apiKey,
    apiSecret: ACCOUNT.apiSecret,
    requestTimeoutMs: 2_000,
    maxPages: MAX_PAGES,
    ids: { next: (prefix) => `${prefix}-busy` },
    clock,
  });
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
  const snapshot = await session.fetchOpenPositions();
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

describe('close evidence on an account busier than the page limit', () => {
  it('positions of quiet symbols get their closes although the account-wide walk ran out of pages', async () => {
    let evidence: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      evidence = await session.fetchPositionChanges([quiet, calm, grid]);
    });
    expect(evidence.get(positionIdOf(quiet))).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '1' }],
    });
    expect(evidence.get(positionIdOf(calm))).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '3' }],
    });
    // The grid's own walk still outgrows the limit: unknown, never an empty known list.
    expect(evidence.get(positionIdOf(grid))).toMatchObject({
      status: 'unknown',
      failure: { reason: 'cursor-loop' },
    });
    // 2 account-wide pages, then per symbol: a page and the empty page its cursor leads to (Bybit
    // sends a cursor on a last page) for each quiet one, and the grid's 2.
    expect(requests).toBe(MAX_PAGES + 2 + 2 + MAX_PAGES);
  });

  it('one symbol is asked by that symbol: its own page, however busy the rest of the account', async () => {
    let evidence: ReadonlyMap<string, unknown> = new Map();
    const requests = await requestsDuring('/v5/execution/list', async () => {
      evidence = await session.fetchPositionChanges([quiet]);
    });
    expect(evidence.get(positionIdOf(quiet))).toMatchObject({ status: 'known' });
    // Its page and the empty page after its cursor.
    expect(requests).toBe(2);
  });

  it('a walk that reaches its end is not repeated per symbol', async () => {
    const requests = await requestsDuring('/v5/execution/list', () =>
      createBybitSession({
        baseUrl: sim.url,
        apiKey: ACCOUNT.apiKey,
        apiSecret: ACCOUNT.apiSecret,
        maxPages: 10,
        ids: { next: (prefix) => `${prefix}-wide` },
        clock,
      }).fetchPositionChanges([quiet, calm]),
    );
    // 255 fills in pages of 100, then the empty page that ends the walk: no per-symbol walks.
    expect(requests).toBe(4);
  });
});

describe('protective orders on an account busier than the page limit', () => {
  it('the asked symbols are listed on their own once the settle coin listing runs out of pages', async () => {
    let listed: Awaited<ReturnType<ExchangeSession['fetchProtectiveOrders']>> | undefined;
    const requests = await requestsDuring('/v5/order/realtime', async () => {
      listed = await session.fetchProtectiveOrders(['QUIETUSDT', 'CALMUSDT']);
    });
    expect(listed?.status).toBe('known');
    if (listed?.status !== 'known') return;
    const symbols = listed.orders.map((o) => o.symbol).sort();
    expect(symbols).toEqual(['CALMUSDT', 'QUIETUSDT']);
    // 2 pages of the settle coin's listing, then per symbol a page and the empty one after its cursor.
    expect(requests).toBe(MAX_PAGES + 2 + 2);
  });

  it('the whole account (the protection audit asks for it) stays unknown: nothing is concluded from a part', async () => {
    expect(await session.fetchProtectiveOrders()).toMatchObject({
      status: 'unknown',
      failure: { reason: 'cursor-loop' },
    });
  });

  it('one symbol is listed by that symbol alone', async () => {
    const requests = await requestsDuring('/v5/order/realtime', async () => {
      expect(await session.fetchProtectiveOrders(['QUIETUSDT'])).toMatchObject({
        status: 'known',
        orders: [{ symbol: 'QUIETUSDT', kind: 'take-profit' }],
      });
    });
    expect(requests).toBe(2);
  });

  it('the grid itself, past the limit on its own, is unknown', async () => {
    expect(await session.fetchProtectiveOrders(['GRIDUSDT', 'QUIETUSDT'])).toMatchObject({
      status: 'unknown',
      failure: { reason: 'cursor-loop' },
    });
  });
});
