import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BybitSessionConfig } from '#adapters/bybit/bybit-session.js';
import { HISTORY_WINDOW_MS } from '#adapters/bybit/mapping.js';
import { accountForClose } from '#core/evidence.js';
import type { ObservedPosition, PositionIdx, TrackedPosition } from '#core/types.js';
import {
  type BybitSimulator,
  createVirtualClock,
  type FaultPatch,
  noFaults,
  PRIVATE_ENDPOINTS,
  startBybitSimulator,
} from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { changesOf, protectiveOrdersOf, recheckPosition } from '#test/support/session-views.js';
import { adapterSession } from '#test/support/simulated-account.js';

/**
 * `createBybitSession` over HTTP against the local Bybit V5 simulator. The simulator runs on a
 * virtual clock (record times, history lag, `time` of every answer) that the session shares for its
 * history windows; request timestamps are checked against the wall clock, which the SDK signs with.
 * Longer than 400 lines because every scenario shares one simulator and its accounts, started once
 * for the file (a JVM-free but stateful server): splitting it would start it once per part.
 */

const T_START = Date.UTC(2026, 0, 5, 12, 0, 0);
const clock = createVirtualClock(T_START);

const ACCOUNTS = {
  oneWay: { id: 'acct-oneway', apiKey: 'sim-key-oneway', apiSecret: 'sim-secret-oneway-000000000' },
  hedge: { id: 'acct-hedge', apiKey: 'sim-key-hedge', apiSecret: 'sim-secret-hedge-0000000000' },
  big: { id: 'acct-big', apiKey: 'sim-key-big', apiSecret: 'sim-secret-big-000000000000' },
  history: { id: 'acct-history', apiKey: 'sim-key-history', apiSecret: 'sim-secret-history-00000000' },
} as const;
type AccountName = keyof typeof ACCOUNTS;

const BIG_ACCOUNT_POSITIONS = 450;

let sim: BybitSimulator;

beforeAll(async () => {
  sim = await startBybitSimulator({
    seed: 20260105,
    clock: clock.now,
    authClock: Date.now,
    // Per-second windows on a clock that only moves when told would throttle at random; the
    // rate-limit fault is tested on its own.
    rateLimitPerSecond: 0,
    faults: noFaults,
    accounts: [
      { ...ACCOUNTS.oneWay, positionMode: 'one-way' },
      { ...ACCOUNTS.hedge, positionMode: 'hedge' },
      { ...ACCOUNTS.big, positionMode: 'one-way' },
      { ...ACCOUNTS.history, positionMode: 'one-way' },
    ],
  });
  for (let i = 0; i < BIG_ACCOUNT_POSITIONS; i++) {
    sim.admin.openPosition({
      accountId: ACCOUNTS.big.id,
      symbol: `S${String(i).padStart(3, '0')}USDT`,
      side: i % 3 === 0 ? 'Sell' : 'Buy',
      qty: '1',
      price: '10',
    });
  }
});

afterAll(async () => {
  await sim?.close();
});

/**
 * No faults anywhere. `setFaults` merges field by field, so an `endpoints` filter set by an earlier
 * test survives `setFaults(noFaults)`: name every endpoint again.
 */
const everywhere = { probability: 0, endpoints: [...PRIVATE_ENDPOINTS] };
const cleared: FaultPatch = {
  ...noFaults,
  truncatedPagination: everywhere,
  stale: everywhere,
  serverError: everywhere,
  timeout: { ...noFaults.timeout, ...everywhere },
  rateLimit: everywhere,
};

beforeEach(() => {
  sim.admin.setFaults(cleared);
  clock.advance(60_000);
});

function sessionFor(name: AccountName, over: Partial<BybitSessionConfig> = {}): ExchangeSession {
  return adapterSession(sim, ACCOUNTS[name], clock, over);
}

/** The ledger entry the core would keep for a position seen open. */
function trackedFrom(accountId: string, p: ObservedPosition, seenAt: number): TrackedPosition {
  return {
    accountId,
    symbol: p.symbol,
    positionIdx: p.positionIdx,
    side: p.side,
    size: p.size,
    lastSeenOpenAt: seenAt,
    lastSeenSnapshotId: 'snap-test',
    stateUpdatedAt: p.updatedAt,
    ...(p.sequence === undefined ? {} : { stateSequence: p.sequence }),
    protectiveOrders: [],
  };
}

/** Re-checks a position and returns it as tracked; fails the test if it is not open. */
async function trackOpen(
  session: ExchangeSession,
  name: AccountName,
  symbol: string,
  idx: PositionIdx,
): Promise<TrackedPosition> {
  const recheck = await recheckPosition(session, symbol, idx);
  if (recheck.status !== 'open') throw new Error(`${symbol}#${idx} is ${recheck.status}, expected open`);
  return trackedFrom(ACCOUNTS[name].id, recheck.position, recheck.checkedAt);
}

describe('authentication', () => {
  it('a wrong key is an auth-error unknown snapshot, and no secret leaks into it', async () => {
    const snapshot = await sessionFor('oneWay', { apiKey: 'sim-key-nobody' }).fetchOpenPositions();
    expect(snapshot).toMatchObject({
      status: 'unknown',
      positions: [],
      failure: { reason: 'auth-error', exchangeCode: 10003 },
    });
    expect(JSON.stringify(snapshot)).not.toContain(ACCOUNTS.oneWay.apiSecret);
  });

  it('a wrong secret is an auth-error, and the key Bybit echoes in "error sign! origin_string" is redacted', async () => {
    const apiSecret = 'not-the-secret-0000000000';
    const session = sessionFor('oneWay', { apiSecret });
    const snapshot = await session.fetchOpenPositions();
    expect(snapshot).toMatchObject({
      status: 'unknown',
      failure: { reason: 'auth-error', exchangeCode: 10004 },
    });
    const cancel = await session.cancelOrder('BTCUSDT', 'any');
    expect(cancel).toMatchObject({ status: 'failed', retryable: false, exchangeCode: 10004 });
    for (const output of [JSON.stringify(snapshot), JSON.stringify(cancel)]) {
      expect(output).not.toContain(ACCOUNTS.oneWay.apiKey);
      expect(output).not.toContain(apiSecret);
      expect(output).toContain('[redacted]');
    }
  });
});

describe('the bulk position list', () => {
  it(`reads ${BIG_ACCOUNT_POSITIONS} positions over 3 pages of 200 as complete`, async () => {
    const snapshot = await sessionFor('big').fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'complete', pages: 3, fetchedAt: clock.now() });
    expect(snapshot.positions).toHaveLength(BIG_ACCOUNT_POSITIONS);
    expect(new Set(snapshot.positions.map((p) => p.symbol)).size).toBe(BIG_ACCOUNT_POSITIONS);
    expect(snapshot.positions.find((p) => p.symbol === 'S000USDT')).toMatchObject({
      side: 'short',
      size: '1',
    });
    expect(snapshot.positions.find((p) => p.symbol === 'S001USDT')).toMatchObject({
      side: 'long',
      size: '1',
    });
  });

  it('the incident: a silent drop gives a complete snapshot missing a position, which the re-check finds open', async () => {
    sim.admin.setFaults({ dropPositions: { probability: 1, maxDropped: 1 } });
    const session = sessionFor('big');
    const snapshot = await session.fetchOpenPositions();
    // The adapter cannot tell: every page arrived and validated. That is why the core takes a second look.
    expect(snapshot.status).toBe('complete');
    expect(snapshot.positions.length).toBeLessThan(BIG_ACCOUNT_POSITIONS);
    const seen = new Set(snapshot.positions.map((p) => p.symbol));
    const missing = sim.admin.positions(ACCOUNTS.big.id).find((p) => !seen.has(p.symbol));
    expect(missing).toBeDefined();
    if (missing === undefined) return;
    expect(await recheckPosition(session, missing.symbol, 0)).toMatchObject({ status: 'open' });
  });

  it('a list silently cut after its first page reads as complete; the re-check finds what it lost', async () => {
    // The simulator's truncation fault: the page after a cursor comes back empty with no cursor. That is
    // also how an exactly full last page ends on Bybit, so the adapter cannot refuse it: like the
    // incident's drops, it is the core's second look and the targeted re-check that catch it.
    sim.admin.setFaults({ truncatedPagination: { probability: 1 } });
    const session = sessionFor('big');
    const snapshot = await session.fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'complete', pages: 2 });
    expect(snapshot.positions).toHaveLength(200);
    const seen = new Set(snapshot.positions.map((p) => p.symbol));
    const lost = sim.admin.positions(ACCOUNTS.big.id).find((p) => !seen.has(p.symbol));
    expect(lost).toBeDefined();
    if (lost === undefined) return;
    expect(await recheckPosition(session, lost.symbol, 0)).toMatchObject({ status: 'open' });
  });

  it('a 5xx is unknown (http-error)', async () => {
    sim.admin.setFaults({ serverError: { probability: 1 } });
    expect(await sessionFor('big').fetchOpenPositions()).toMatchObject({
      status: 'unknown',
      pages: 0,
      positions: [],
      failure: { reason: 'http-error' },
    });
  });

  it('more pages than maxPages is unknown (page-limit), keeping what the pages read showed', async () => {
    const snapshot = await sessionFor('big', { maxPages: 2 }).fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'unknown', pages: 2, failure: { reason: 'page-limit' } });
    expect(snapshot.positions).toHaveLength(400);
  });

  it('a timeout is unknown (timeout)', async () => {
    sim.admin.setFaults({ timeout: { probability: 1, delayMs: 3_000 } });
    const snapshot = await sessionFor('oneWay', { requestTimeoutMs: 300 }).fetchOpenPositions();
    expect(snapshot).toMatchObject({ status: 'unknown', failure: { reason: 'timeout' } });
  });

  it('10006 is rate-limited with retryAt from X-Bapi-Limit-Reset-Timestamp', async () => {
    sim.admin.setFaults({ rateLimit: { probability: 1 } });
    expect(await sessionFor('oneWay').fetchOpenPositions()).toMatchObject({
      status: 'unknown',
      failure: { reason: 'rate-limited', exchangeCode: 10006, retryAt: clock.now() + 1_000 },
    });
  });

  it('a stale answer (old data, current time) reads as complete: presence from it may be old', async () => {
    const session = sessionFor('oneWay');
    sim.admin.openPosition({
      accountId: ACCOUNTS.oneWay.id,
      symbol: 'STALEUSDT',
      side: 'Buy',
      qty: '2',
      price: '5',
    });
    const fresh = await session.fetchOpenPositions();
    expect(fresh.positions.some((p) => p.symbol === 'STALEUSDT')).toBe(true);
    sim.admin.closePosition({ accountId: ACCOUNTS.oneWay.id, symbol: 'STALEUSDT' });
    sim.admin.setFaults({ stale: { probability: 1 } });
    const stale = await session.fetchOpenPositions();
    // Undetectable on the wire. It errs towards "still open", which never strips a stop.
    expect(stale.status).toBe('complete');
    expect(stale.positions.some((p) => p.symbol === 'STALEUSDT')).toBe(true);
    sim.admin.setFaults(cleared);
    expect(await recheckPosition(session, 'STALEUSDT', 0)).toMatchObject({ status: 'flat' });
  });
});

describe('the targeted re-check', () => {
  it('open with the position state, flat after a close (size 0 listed), absent for the other hedge index', async () => {
    const session = sessionFor('oneWay');
    sim.admin.openPosition({
      accountId: ACCOUNTS.oneWay.id,
      symbol: 'ETHUSDT',
      side: 'Sell',
      qty: '3',
      price: '3000',
    });
    const open = await recheckPosition(session, 'ETHUSDT', 0);
    expect(open).toMatchObject({
      status: 'open',
      checkedAt: clock.now(),
      position: { side: 'short', size: '3' },
    });
    expect(await recheckPosition(session, 'ETHUSDT', 1)).toMatchObject({ status: 'absent' });
    sim.admin.closePosition({ accountId: ACCOUNTS.oneWay.id, symbol: 'ETHUSDT' });
    expect(await recheckPosition(session, 'ETHUSDT', 0)).toMatchObject({ status: 'flat' });
  });

  it('a failure is unknown, never flat or absent', async () => {
    sim.admin.setFaults({ serverError: { probability: 1 } });
    expect(await recheckPosition(sessionFor('oneWay'), 'ETHUSDT', 0)).toMatchObject({
      status: 'unknown',
      failure: { reason: 'http-error' },
    });
  });
});

describe('close evidence from the execution list', () => {
  it('a stop-loss trigger shows as a stop-loss close of the whole size', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.setPrice('BTCUSDT', '60000');
    sim.admin.openPosition({ accountId: account, symbol: 'BTCUSDT', side: 'Buy', qty: '0.5' });
    const stopId = sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'BTCUSDT',
      kind: 'stop-loss',
      triggerPrice: '59000',
    });
    const position = await trackOpen(session, 'oneWay', 'BTCUSDT', 0);
    expect(await changesOf(session, position)).toMatchObject({ status: 'known', changes: [] });

    clock.advance(5_000);
    sim.admin.setPrice('BTCUSDT', '58900');
    expect(await recheckPosition(session, 'BTCUSDT', 0)).toMatchObject({ status: 'flat' });
    const evidence = await changesOf(session, position);
    expect(evidence).toMatchObject({
      status: 'known',
      searchedFrom: position.stateUpdatedAt,
      searchedTo: clock.now(),
      changes: [
        { source: 'execution', closedQty: '0.5', openedQty: '0', kind: 'stop-loss', orderId: stopId },
      ],
    });
    if (evidence.status === 'known') expect(accountForClose(position, evidence.changes).closed).toBe(true);
  });

  it('a take-profit and a trailing stop are named as such', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.setPrice('SOLUSDT', '150');
    sim.admin.openPosition({ accountId: account, symbol: 'SOLUSDT', side: 'Sell', qty: '10' });
    sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'SOLUSDT',
      kind: 'take-profit',
      triggerPrice: '140',
    });
    const short = await trackOpen(session, 'oneWay', 'SOLUSDT', 0);
    clock.advance(1_000);
    sim.admin.setPrice('SOLUSDT', '139');
    expect(await changesOf(session, short)).toMatchObject({
      status: 'known',
      changes: [{ kind: 'take-profit', closedQty: '10' }],
    });

    sim.admin.openPosition({ accountId: account, symbol: 'SOLUSDT', side: 'Buy', qty: '4' });
    sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'SOLUSDT',
      kind: 'trailing-stop',
      triggerPrice: '134',
    });
    const long = await trackOpen(session, 'oneWay', 'SOLUSDT', 0);
    clock.advance(1_000);
    sim.admin.setPrice('SOLUSDT', '145');
    clock.advance(1_000);
    sim.admin.setPrice('SOLUSDT', '139.5');
    expect(await changesOf(session, long)).toMatchObject({
      status: 'known',
      changes: [{ kind: 'trailing-stop', closedQty: '4' }],
    });
  });

  it('a liquidation (BustTrade) and an ADL (AdlTrade) close with their kinds', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.openPosition({ accountId: account, symbol: 'LIQUSDT', side: 'Buy', qty: '7', price: '2' });
    const liquidated = await trackOpen(session, 'oneWay', 'LIQUSDT', 0);
    clock.advance(1_000);
    sim.admin.closePosition({ accountId: account, symbol: 'LIQUSDT', how: 'liquidation' });
    expect(await changesOf(session, liquidated)).toMatchObject({
      status: 'known',
      changes: [{ kind: 'liquidation', closedQty: '7' }],
    });

    sim.admin.openPosition({ accountId: account, symbol: 'ADLUSDT', side: 'Sell', qty: '1.25', price: '40' });
    const deleveraged = await trackOpen(session, 'oneWay', 'ADLUSDT', 0);
    clock.advance(1_000);
    sim.admin.closePosition({ accountId: account, symbol: 'ADLUSDT', how: 'adl' });
    const evidence = await changesOf(session, deleveraged);
    expect(evidence).toMatchObject({
      status: 'known',
      changes: [{ kind: 'auto-deleverage', closedQty: '1.25' }],
    });
  });

  it('a partial close and a close-then-reopen are not closes; a one-way flip leaves a position', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.openPosition({ accountId: account, symbol: 'FLIPUSDT', side: 'Buy', qty: '5', price: '1' });
    const position = await trackOpen(session, 'oneWay', 'FLIPUSDT', 0);
    const accounted = async () => {
      const evidence = await changesOf(session, position);
      if (evidence.status !== 'known') throw new Error(`evidence ${evidence.status}`);
      return accountForClose(position, evidence.changes);
    };

    clock.advance(1_000);
    sim.admin.closePosition({ accountId: account, symbol: 'FLIPUSDT', qty: '2' });
    expect(await accounted()).toMatchObject({ closed: false, remaining: '3' });

    clock.advance(1_000);
    sim.admin.openPosition({ accountId: account, symbol: 'FLIPUSDT', side: 'Sell', qty: '4' });
    // Sold 4 of a long 3: closed 3, opened a short of 1.
    expect(await accounted()).toMatchObject({ closed: false, remaining: '1' });
    expect(await recheckPosition(session, 'FLIPUSDT', 0)).toMatchObject({
      status: 'open',
      position: { side: 'short', size: '1' },
    });

    clock.advance(1_000);
    sim.admin.closePosition({ accountId: account, symbol: 'FLIPUSDT' });
    expect(await accounted()).toMatchObject({ closed: true, remaining: '0' });

    clock.advance(1_000);
    sim.admin.openPosition({ accountId: account, symbol: 'FLIPUSDT', side: 'Buy', qty: '2' });
    expect(await accounted()).toMatchObject({ closed: false, remaining: '2' });
  });

  it('hedge mode: a stop on the long leg closes it, and does not touch the short leg', async () => {
    const session = sessionFor('hedge');
    const account = ACCOUNTS.hedge.id;
    sim.admin.setPrice('XRPUSDT', '2');
    sim.admin.openPosition({ accountId: account, symbol: 'XRPUSDT', side: 'Buy', qty: '100' });
    sim.admin.openPosition({ accountId: account, symbol: 'XRPUSDT', side: 'Sell', qty: '60' });
    const longLeg = await trackOpen(session, 'hedge', 'XRPUSDT', 1);
    const shortLeg = await trackOpen(session, 'hedge', 'XRPUSDT', 2);
    sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'XRPUSDT',
      positionIdx: 1,
      kind: 'stop-loss',
      triggerPrice: '1.8',
    });
    clock.advance(1_000);
    sim.admin.setPrice('XRPUSDT', '1.79');

    const longEvidence = await changesOf(session, longLeg);
    expect(longEvidence).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '100' }],
    });
    expect(await changesOf(session, shortLeg)).toMatchObject({ status: 'known', changes: [] });
    expect(await recheckPosition(session, 'XRPUSDT', 1)).toMatchObject({ status: 'flat' });
    expect(await recheckPosition(session, 'XRPUSDT', 2)).toMatchObject({ status: 'open' });

    // Adding to the short leg is the short's change only.
    clock.advance(1_000);
    sim.admin.openPosition({ accountId: account, symbol: 'XRPUSDT', side: 'Sell', qty: '10' });
    expect(await changesOf(session, shortLeg)).toMatchObject({
      status: 'known',
      changes: [{ closedQty: '0', openedQty: '10' }],
    });
  });

  it('history lag: the close is not visible yet, then it is', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.setFaults({ historyLagMs: 30_000 });
    sim.admin.setPrice('LAGUSDT', '10');
    sim.admin.openPosition({ accountId: account, symbol: 'LAGUSDT', side: 'Buy', qty: '3' });
    sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'LAGUSDT',
      kind: 'stop-loss',
      triggerPrice: '9',
    });
    const position = await trackOpen(session, 'oneWay', 'LAGUSDT', 0);
    clock.advance(1_000);
    sim.admin.setPrice('LAGUSDT', '8.9');

    expect(await recheckPosition(session, 'LAGUSDT', 0)).toMatchObject({ status: 'flat' });
    // Known and empty: history answered, the fill just is not in it yet. The core's grace period covers this.
    expect(await changesOf(session, position)).toMatchObject({ status: 'known', changes: [] });
    clock.advance(30_000);
    expect(await changesOf(session, position)).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '3' }],
    });
  });

  it('pages through more than 100 fills', async () => {
    const session = sessionFor('history');
    const account = ACCOUNTS.history.id;
    sim.admin.openPosition({ accountId: account, symbol: 'MANYUSDT', side: 'Buy', qty: '1', price: '3' });
    const position = await trackOpen(session, 'history', 'MANYUSDT', 0);
    for (let i = 0; i < 120; i++) {
      clock.advance(10);
      sim.admin.openPosition({ accountId: account, symbol: 'MANYUSDT', side: 'Buy', qty: '0.1' });
    }
    clock.advance(10);
    sim.admin.closePosition({ accountId: account, symbol: 'MANYUSDT' });
    const evidence = await changesOf(session, position);
    expect(evidence.status).toBe('known');
    if (evidence.status !== 'known') return;
    expect(evidence.changes).toHaveLength(121);
    expect(accountForClose(position, evidence.changes)).toMatchObject({ closed: true, remaining: '0' });
  });

  it('searches a state older than 7 days in 7-day windows the exchange accepts', async () => {
    const session = sessionFor('history');
    const account = ACCOUNTS.history.id;
    sim.admin.setPrice('OLDUSDT', '50');
    sim.admin.openPosition({ accountId: account, symbol: 'OLDUSDT', side: 'Sell', qty: '2' });
    sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'OLDUSDT',
      kind: 'stop-loss',
      triggerPrice: '55',
    });
    const position = await trackOpen(session, 'history', 'OLDUSDT', 0);
    clock.advance(2 * HISTORY_WINDOW_MS + 3_600_000);
    sim.admin.setPrice('OLDUSDT', '56');
    expect(await changesOf(session, position)).toMatchObject({
      status: 'known',
      changes: [{ kind: 'stop-loss', closedQty: '2' }],
    });
  });

  it('a failing history page is unknown, never an empty known list', async () => {
    const session = sessionFor('oneWay');
    const position = await trackOpen(session, 'oneWay', ...(await anyOpen(session)));
    sim.admin.setFaults({ serverError: { probability: 1, endpoints: ['/v5/execution/list'] } });
    expect(await changesOf(session, position)).toMatchObject({
      status: 'unknown',
      searchedFrom: position.stateUpdatedAt,
      failure: { reason: 'http-error' },
    });
  });
});

async function anyOpen(session: ExchangeSession): Promise<[string, PositionIdx]> {
  sim.admin.openPosition({
    accountId: ACCOUNTS.oneWay.id,
    symbol: 'ANYUSDT',
    side: 'Buy',
    qty: '1',
    price: '1',
  });
  const snapshot = await session.fetchOpenPositions();
  const any = snapshot.positions.find((p) => p.symbol === 'ANYUSDT');
  if (any === undefined) throw new Error('ANYUSDT not listed');
  return [any.symbol, any.positionIdx];
}

describe('protective orders and cancels', () => {
  it('lists SL, TP, trailing and reduce-only limits of the position, with kinds and creation times', async () => {
    const session = sessionFor('hedge');
    const account = ACCOUNTS.hedge.id;
    sim.admin.setPrice('DOTUSDT', '5');
    sim.admin.openPosition({ accountId: account, symbol: 'DOTUSDT', side: 'Buy', qty: '10' });
    sim.admin.openPosition({ accountId: account, symbol: 'DOTUSDT', side: 'Sell', qty: '10' });
    const onLong = (
      kind: 'stop-loss' | 'take-profit' | 'trailing-stop' | 'reduce-only-limit',
      triggerPrice: string,
    ) =>
      sim.admin.placeProtectiveOrder({
        accountId: account,
        symbol: 'DOTUSDT',
        positionIdx: 1,
        kind,
        triggerPrice,
      });
    const ids = {
      sl: onLong('stop-loss', '4.5'),
      tp: onLong('take-profit', '6'),
      trailing: onLong('trailing-stop', '4.8'),
      limit: onLong('reduce-only-limit', '6.5'),
    };
    const shortStop = sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'DOTUSDT',
      positionIdx: 2,
      kind: 'stop-loss',
      triggerPrice: '5.5',
    });

    const longOrders = await protectiveOrdersOf(session, 'DOTUSDT', 1);
    expect(longOrders.status).toBe('known');
    if (longOrders.status !== 'known') return;
    const byId = new Map(longOrders.orders.map((o) => [o.orderId, o]));
    expect(byId.size).toBe(4);
    expect(byId.get(ids.sl)).toEqual({
      orderId: ids.sl,
      symbol: 'DOTUSDT',
      positionIdx: 1,
      kind: 'stop-loss',
      triggerPrice: '4.5',
      // The simulator lists a Full-mode stop with the position's size; it triggers on a fall.
      qty: '10',
      triggersOn: 'fall',
      createdAt: clock.now(),
    });
    expect(byId.get(ids.tp)?.kind).toBe('take-profit');
    expect(byId.get(ids.trailing)?.kind).toBe('trailing-stop');
    expect(byId.get(ids.limit)).toMatchObject({ kind: 'reduce-only' });
    expect(byId.get(ids.limit)).not.toHaveProperty('triggerPrice');
    expect(await protectiveOrdersOf(session, 'DOTUSDT', 2)).toMatchObject({
      status: 'known',
      orders: [{ orderId: shortStop, kind: 'stop-loss' }],
    });
  });

  it('follows the order cursor past 50 orders', async () => {
    const session = sessionFor('history');
    const account = ACCOUNTS.history.id;
    sim.admin.setPrice('PAGEUSDT', '100');
    sim.admin.openPosition({ accountId: account, symbol: 'PAGEUSDT', side: 'Buy', qty: '70' });
    for (let i = 0; i < 70; i++) {
      sim.admin.placeProtectiveOrder({
        accountId: account,
        symbol: 'PAGEUSDT',
        kind: 'stop-loss',
        triggerPrice: String(30 + i / 2),
        qty: '1',
      });
    }
    const orders = await protectiveOrdersOf(session, 'PAGEUSDT', 0);
    expect(orders).toMatchObject({ status: 'known' });
    if (orders.status === 'known') expect(orders.orders).toHaveLength(70);
  });

  it('a failing order listing is unknown', async () => {
    sim.admin.setFaults({ serverError: { probability: 1 } });
    expect(await protectiveOrdersOf(sessionFor('history'), 'PAGEUSDT', 0)).toMatchObject({
      status: 'unknown',
      failure: { reason: 'http-error' },
    });
  });

  it('cancels an orphan, then reports it already gone; no false cancel recorded', async () => {
    const session = sessionFor('oneWay');
    const account = ACCOUNTS.oneWay.id;
    sim.admin.setPrice('AAVEUSDT', '100');
    sim.admin.openPosition({ accountId: account, symbol: 'AAVEUSDT', side: 'Buy', qty: '4' });
    const tp = sim.admin.placeProtectiveOrder({
      accountId: account,
      symbol: 'AAVEUSDT',
      kind: 'take-profit',
      triggerPrice: '120',
    });
    sim.admin.closePosition({ accountId: account, symbol: 'AAVEUSDT' });

    expect(await session.cancelOrder('AAVEUSDT', tp)).toEqual({ status: 'cancelled', orderId: tp });
    expect(await session.cancelOrder('AAVEUSDT', tp)).toMatchObject({ status: 'already-gone', orderId: tp });
    expect(await protectiveOrdersOf(session, 'AAVEUSDT', 0)).toEqual({ status: 'known', orders: [] });
    const truth = sim.admin.groundTruth();
    expect(truth.falseCancels).toEqual([]);
    expect(truth.cancels.find((c) => c.orderId === tp)).toMatchObject({ cleanedOrphan: true });
  });

  it('a rate-limited or timed-out cancel is a retryable failure', async () => {
    const session = sessionFor('oneWay', { requestTimeoutMs: 300 });
    sim.admin.setFaults({ rateLimit: { probability: 1, endpoints: ['/v5/order/cancel'] } });
    expect(await session.cancelOrder('AAVEUSDT', 'whatever')).toMatchObject({
      status: 'failed',
      exchangeCode: 10006,
      retryable: true,
      retryAt: clock.now() + 1_000,
    });
    sim.admin.setFaults({ rateLimit: { probability: 0 }, timeout: { probability: 1, delayMs: 2_000 } });
    expect(await session.cancelOrder('AAVEUSDT', 'whatever')).toMatchObject({
      status: 'failed',
      retryable: true,
    });
    sim.admin.setFaults({ timeout: { probability: 0 }, serverError: { probability: 1 } });
    expect(await session.cancelOrder('AAVEUSDT', 'whatever')).toMatchObject({
      status: 'failed',
      retryable: true,
    });
  });
});
