import { describe, expect, it } from 'vitest';
import { createBybitSession } from '#adapters/bybit/bybit-session.js';
import { accountForClose } from '#core/evidence.js';
import type { PositionIdx, TrackedPosition } from '#core/types.js';
import type { BybitSimulator, VirtualClock } from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { changesOf, recheckPosition } from '#test/support/session-views.js';
import { client, HEDGE, ONE_WAY, simulatorPerTest } from './simulator-sdk.js';

/**
 * The real Bybit adapter against the simulator when `/v5/execution/list` answers `closedSize: ""`
 * (the `blankClosedSize` fault): blank is unknown, never 0, so `fetchPositionChanges` reads
 * `/v5/position/closed-pnl` to learn what each order closed, and only then. A close is still proven,
 * a close followed by a reopen is not, and funding between the last seen state and the close (a `seq`
 * and `updatedTime` that moved with no trade) does not get in the way.
 */

const start = simulatorPerTest();
const SYMBOL = 'BTCUSDT';
const CLOSED_PNL = '/v5/position/closed-pnl';
const EXECUTIONS = '/v5/execution/list';

type Account = typeof ONE_WAY | typeof HEDGE;

interface World {
  readonly sim: BybitSimulator;
  readonly clock: VirtualClock;
  session(account?: Account): ExchangeSession;
  /** Requests (pages) of the account to an endpoint so far. */
  reads(endpoint: typeof CLOSED_PNL | typeof EXECUTIONS, account?: Account): number;
}

async function world(blankProbability: number): Promise<World> {
  const { sim, clock } = await start({
    rateLimitPerSecond: 0,
    faults: { dropPositions: { probability: 0 }, blankClosedSize: { probability: blankProbability } },
  });
  sim.admin.setPrice(SYMBOL, '60000');
  return {
    sim,
    clock,
    session: (account = ONE_WAY) =>
      createBybitSession({
        baseUrl: sim.url,
        apiKey: account.apiKey,
        apiSecret: account.apiSecret,
        requestTimeoutMs: 2_000,
        ids: { next: (prefix) => `${prefix}-1` },
        clock,
      }),
    reads: (endpoint, account = ONE_WAY) =>
      sim.admin.groundTruth().requestCounts[account.id]?.[endpoint] ?? 0,
  };
}

/** The position as a check would track it: re-checked open, with the exchange's seq and time. */
async function track(w: World, account: Account, positionIdx: PositionIdx): Promise<TrackedPosition> {
  w.clock.advance(1_000);
  const recheck = await recheckPosition(w.session(account), SYMBOL, positionIdx);
  if (recheck.status !== 'open') throw new Error(`${SYMBOL}#${positionIdx} is ${recheck.status}`);
  const p = recheck.position;
  w.clock.advance(1_000);
  return {
    accountId: account.id,
    symbol: p.symbol,
    positionIdx: p.positionIdx,
    side: p.side,
    size: p.size,
    lastSeenOpenAt: recheck.checkedAt,
    lastSeenSnapshotId: 'snap-test',
    stateUpdatedAt: p.updatedAt,
    ...(p.sequence === undefined ? {} : { stateSequence: p.sequence }),
    protectiveOrders: [],
  };
}

/** `fetchPositionChanges` accounted as the core does; fails the test on unknown evidence. */
async function proof(w: World, position: TrackedPosition, account: Account = ONE_WAY) {
  w.clock.advance(1_000);
  const evidence = await changesOf(w.session(account), position);
  if (evidence.status !== 'known') throw new Error(`evidence unknown: ${JSON.stringify(evidence)}`);
  return accountForClose(position, evidence.changes);
}

/** Every execution of the account as the wire shows it right now. */
async function wireClosedSizes(w: World, account: Account = ONE_WAY): Promise<string[]> {
  const res = await client(w.sim, account).getExecutionList({ category: 'linear', symbol: SYMBOL });
  return res.result.list.filter((e) => e.execType !== 'Funding').map((e) => e.closedSize ?? '(missing)');
}

function openLong(w: World, qty = '0.1'): void {
  w.sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty });
}

describe('one-way, every closedSize blank', () => {
  it('a stop-loss close is proven from closed-PnL', async () => {
    const w = await world(1);
    openLong(w);
    w.sim.admin.placeProtectiveOrder({
      accountId: ONE_WAY.id,
      symbol: SYMBOL,
      kind: 'stop-loss',
      triggerPrice: '58000',
    });
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.setPrice(SYMBOL, '57900');
    expect(await wireClosedSizes(w)).toEqual(['', '']);
    const accounting = await proof(w, tracked);
    expect(accounting).toMatchObject({ closed: true });
    expect(accounting.changes).toEqual([
      expect.objectContaining({ closedQty: '0.1', source: 'closed-pnl', kind: 'stop-loss' }),
    ]);
    expect(w.reads(CLOSED_PNL)).toBeGreaterThan(0);
  });

  it('a close by hand through the API is proven', async () => {
    const w = await world(1);
    openLong(w, '0.3');
    const tracked = await track(w, ONE_WAY, 0);
    const res = await client(w.sim).submitOrder({
      category: 'linear',
      symbol: SYMBOL,
      side: 'Sell',
      orderType: 'Market',
      qty: '0.3',
      reduceOnly: true,
    });
    expect(res.retCode).toBe(0);
    const accounting = await proof(w, tracked);
    expect(accounting).toMatchObject({ closed: true, remaining: '0' });
    expect(accounting.changes).toEqual([expect.objectContaining({ closedQty: '0.3', kind: 'manual' })]);
  });

  it('a close in two parts is proven only once both are in', async () => {
    const w = await world(1);
    openLong(w, '0.3');
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL, qty: '0.1' });
    expect(await proof(w, tracked)).toMatchObject({ closed: false, remaining: '0.2' });
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    expect(await proof(w, tracked)).toMatchObject({ closed: true, remaining: '0' });
  });

  it('a close followed by a reopen is not a close', async () => {
    const w = await world(1);
    openLong(w);
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    w.clock.advance(1_000);
    openLong(w, '0.2');
    expect(await wireClosedSizes(w)).toEqual(['', '', '']);
    const accounting = await proof(w, tracked);
    expect(accounting).toMatchObject({ closed: false, remaining: '0.2' });
    expect(accounting.changes.map((c) => [c.closedQty, c.openedQty])).toEqual([
      ['0.1', '0'],
      ['0', '0.2'],
    ]);
  });

  it('a close that flips the position to the other side is not a close', async () => {
    const w = await world(1);
    openLong(w);
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Sell', qty: '0.3' });
    expect(await proof(w, tracked)).toMatchObject({ closed: false, remaining: '0.2' });
  });
});

describe('hedge mode, every closedSize blank', () => {
  it('closing one leg proves that leg closed and not the other', async () => {
    const w = await world(1);
    w.sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Buy', qty: '1' });
    w.sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Sell', qty: '1' });
    w.sim.admin.placeProtectiveOrder({
      accountId: HEDGE.id,
      symbol: SYMBOL,
      positionIdx: 2,
      kind: 'stop-loss',
      triggerPrice: '61000',
    });
    const long = await track(w, HEDGE, 1);
    const short = await track(w, HEDGE, 2);
    w.sim.admin.closePosition({ accountId: HEDGE.id, symbol: SYMBOL, positionIdx: 1 });
    expect(await proof(w, long, HEDGE)).toMatchObject({ closed: true, remaining: '0' });
    // The long leg's closing Sell is on the short leg's opening side: it must not read as an add or a close.
    expect(await proof(w, short, HEDGE)).toMatchObject({ closed: false, remaining: '1', changes: [] });
    w.sim.admin.setPrice(SYMBOL, '61500'); // the short leg's stop-loss
    const accounting = await proof(w, short, HEDGE);
    expect(accounting).toMatchObject({ closed: true, remaining: '0' });
    expect(accounting.changes).toEqual([expect.objectContaining({ kind: 'stop-loss', closedQty: '1' })]);
  });

  it('a leg closed and reopened is not closed', async () => {
    const w = await world(1);
    w.sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Buy', qty: '1' });
    const long = await track(w, HEDGE, 1);
    w.sim.admin.closePosition({ accountId: HEDGE.id, symbol: SYMBOL, positionIdx: 1 });
    w.sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Buy', qty: '0.5' });
    expect(await proof(w, long, HEDGE)).toMatchObject({ closed: false, remaining: '0.5' });
  });
});

describe('funding between the last seen state and the close', () => {
  it('tracked after funding (its bumped seq), the stop-loss close is still proven', async () => {
    const w = await world(1);
    openLong(w);
    w.sim.admin.placeProtectiveOrder({
      accountId: ONE_WAY.id,
      symbol: SYMBOL,
      kind: 'stop-loss',
      triggerPrice: '58000',
    });
    w.clock.advance(60_000);
    const [funding] = w.sim.admin.settleFunding({ accountId: ONE_WAY.id });
    const tracked = await track(w, ONE_WAY, 0);
    expect(tracked).toMatchObject({ stateSequence: funding?.seq, stateUpdatedAt: funding?.execTime });
    w.sim.admin.setPrice(SYMBOL, '57000');
    const accounting = await proof(w, tracked);
    expect(accounting).toMatchObject({ closed: true, remaining: '0' });
    expect(accounting.changes).toEqual([expect.objectContaining({ kind: 'stop-loss', closedQty: '0.1' })]);
  });

  it('tracked before funding, funding then a close: proven; funding then a reopen after the close: not', async () => {
    const w = await world(1);
    openLong(w);
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.settleFunding();
    w.clock.advance(1_000);
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    expect(await proof(w, tracked)).toMatchObject({ closed: true });
    w.clock.advance(1_000);
    openLong(w);
    w.sim.admin.settleFunding();
    expect(await proof(w, tracked)).toMatchObject({ closed: false, remaining: '0.1' });
  });
});

describe('closed-PnL is read only when a blank closedSize needs it', () => {
  it('no blanks: the close is proven from executions alone', async () => {
    const w = await world(0);
    openLong(w);
    const tracked = await track(w, ONE_WAY, 0);
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    expect(await wireClosedSizes(w)).toEqual(['0.1', '0']);
    const accounting = await proof(w, tracked);
    expect(accounting).toMatchObject({ closed: true });
    expect(accounting.changes).toEqual([expect.objectContaining({ source: 'execution' })]);
    expect(w.reads(EXECUTIONS)).toBeGreaterThan(0);
    expect(w.reads(CLOSED_PNL)).toBe(0);
  });

  it('blanks only on fills before the last seen state, or only funding since: no closed-PnL read', async () => {
    const w = await world(1);
    openLong(w);
    const tracked = await track(w, ONE_WAY, 0);
    expect(await proof(w, tracked)).toMatchObject({ closed: false, changes: [] });
    w.sim.admin.settleFunding({ accountId: ONE_WAY.id, rate: '-0.0003' });
    expect(await proof(w, tracked)).toMatchObject({ closed: false, remaining: '0.1', changes: [] });
    expect(w.reads(EXECUTIONS)).toBeGreaterThanOrEqual(2);
    expect(w.reads(CLOSED_PNL)).toBe(0);
    w.sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    expect(await proof(w, tracked)).toMatchObject({ closed: true });
    expect(w.reads(CLOSED_PNL)).toBeGreaterThan(0);
  });
});
