import Big from 'big.js';
import { describe, expect, it } from 'vitest';
import { defaultFaults, startBybitSimulator } from '#local/bybit-simulator/index.js';
import { client, HEDGE, ONE_WAY, simulatorPerTest, T0 } from './simulator-sdk.js';

/**
 * The simulator speaking Bybit's documented shapes, not only its own convenient ones: executions with
 * a blank `closedSize` (the docs' example since 2023-04), funding that moves a position's `seq` and
 * `updatedTime` with no trade, and size-0 rows of a by-symbol query. Through the real bybit-api SDK.
 */

const start = simulatorPerTest();
const SYMBOL = 'BTCUSDT';

type Api = ReturnType<typeof client>;

async function executions(api: Api, extra: { execType?: 'Funding' } = {}) {
  const res = await api.getExecutionList({ category: 'linear', symbol: SYMBOL, limit: 100, ...extra });
  expect(res.retCode).toBe(0);
  return res.result.list;
}

async function positionRows(api: Api, symbol = SYMBOL) {
  const res = await api.getPositionInfo({ category: 'linear', symbol });
  expect(res.retCode).toBe(0);
  return res.result.list;
}

/** Opens, adds, partly closes and closes: opening and closing fills, one of each at least. */
function trade(sim: Awaited<ReturnType<typeof start>>['sim'], clock: { advance(ms: number): number }) {
  sim.admin.setPrice(SYMBOL, '60000');
  sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty: '0.2' });
  clock.advance(1_000);
  sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty: '0.1' });
  clock.advance(1_000);
  sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL, qty: '0.1' });
  clock.advance(1_000);
  sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
  clock.advance(1_000);
}

describe('the blankClosedSize fault', () => {
  it('is off by default, validated like the others, and settable over /admin', async () => {
    expect(defaultFaults.blankClosedSize).toEqual({ probability: 0 });
    const { sim } = await start();
    expect(() => sim.admin.setFaults({ blankClosedSize: { probability: 2 } })).toThrow(/blankClosedSize/);
    const res = await fetch(`${sim.url}/admin/setFaults`, {
      method: 'POST',
      body: JSON.stringify({ blankClosedSize: { probability: 0.25 } }),
    });
    expect(await res.json()).toMatchObject({ ok: true });
    expect(sim.admin.faults().blankClosedSize).toEqual({ probability: 0.25 });
  });

  it('with probability 1 every fill answers closedSize "", opening and closing alike; the truth keeps the amounts', async () => {
    const { sim, clock } = await start({ faults: { ...defaultFaults, blankClosedSize: { probability: 1 } } });
    trade(sim, clock);
    const list = await executions(client(sim));
    expect(list).toHaveLength(4);
    expect(list.map((e) => e.closedSize)).toEqual(['', '', '', '']);
    // Closed-PnL still says what each closing order closed: that is where a reader must look.
    const closes = await client(sim).getClosedPnL({ category: 'linear', symbol: SYMBOL });
    expect(closes.result.list.map((c) => c.closedSize).sort()).toEqual(['0.1', '0.2']);
  });

  it('with probability 0 no fill is blank: the amounts closed, "0" on opens', async () => {
    const { sim, clock } = await start({ faults: { blankClosedSize: { probability: 0 } } });
    trade(sim, clock);
    const list = await executions(client(sim));
    // Newest first: the final close, the partial close, the add, the open.
    expect(list.map((e) => e.closedSize)).toEqual(['0.2', '0.1', '0', '0']);
  });

  it('the same execution answers the same on every read, and a mix at probability 0.5', async () => {
    const { sim, clock } = await start({ seed: 7, faults: { blankClosedSize: { probability: 0.5 } } });
    sim.admin.setPrice(SYMBOL, '60000');
    for (let i = 0; i < 20; i++) {
      sim.admin.openPosition({
        accountId: ONE_WAY.id,
        symbol: SYMBOL,
        side: i % 2 ? 'Sell' : 'Buy',
        qty: '1',
      });
      clock.advance(1_000);
    }
    const api = client(sim);
    const listed = await executions(api);
    const first = new Map(listed.map((e) => [e.execId, e.closedSize]));
    // Read again one by one: by orderId, a different query (and a different stale-replay key).
    const byOrder = await Promise.all(
      listed.slice(0, 6).map(async (e) => {
        const res = await api.getExecutionList({ category: 'linear', orderId: e.orderId });
        return [e.execId, res.result.list[0]?.closedSize] as const;
      }),
    );
    const second = new Map((await executions(api)).map((e) => [e.execId, e.closedSize]));
    expect(second).toEqual(first);
    for (const [execId, closedSize] of byOrder) expect(closedSize).toBe(first.get(execId));
    const blanks = [...first.values()].filter((v) => v === '').length;
    expect(blanks).toBeGreaterThan(0);
    expect(blanks).toBeLessThan(20);
  });

  it('does not change the other faults’ draws: the same seed drops the same positions whatever it is', async () => {
    const dropsWith = async (blank: number) => {
      const clock = { t: T0 };
      const sim = await startBybitSimulator({
        seed: 3,
        clock: () => clock.t,
        authClock: Date.now,
        accounts: [ONE_WAY],
        faults: {
          dropPositions: { probability: 0.5, maxDropped: 2 },
          blankClosedSize: { probability: blank },
        },
      });
      try {
        for (const symbol of ['AAVEUSDT', 'BTCUSDT', 'ETHUSDT', 'SOLUSDT']) {
          sim.admin.openPosition({ accountId: ONE_WAY.id, symbol, side: 'Buy', qty: '1', price: '100' });
        }
        const api = client(sim);
        const seen: string[][] = [];
        for (let i = 0; i < 8; i++) {
          await api.getExecutionList({ category: 'linear' });
          const res = await api.getPositionInfo({ category: 'linear', settleCoin: 'USDT' });
          seen.push(res.result.list.map((p) => p.symbol));
        }
        return seen;
      } finally {
        await sim.close();
      }
    };
    const without = await dropsWith(0);
    expect(await dropsWith(1)).toEqual(without);
    expect(without.some((symbols) => symbols.length < 4)).toBe(true);
  });
});

describe('funding', () => {
  it('moves the position’s seq and updatedTime with no trade, and writes a Funding row', async () => {
    const { sim, clock } = await start({ faults: { blankClosedSize: { probability: 1 } } });
    sim.admin.setPrice(SYMBOL, '60000');
    sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty: '0.5' });
    const api = client(sim);
    const [before] = await positionRows(api);
    clock.advance(8 * 60 * 60 * 1000);
    sim.admin.setPrice(SYMBOL, '61000');
    const rows = sim.admin.settleFunding({ accountId: ONE_WAY.id, rate: '0.0001' });
    const [after] = await positionRows(api);
    expect(before).toMatchObject({ size: '0.5', side: 'Buy', seq: 1, updatedTime: String(T0) });
    expect(after).toMatchObject({
      size: '0.5',
      side: 'Buy',
      avgPrice: '60000',
      seq: 2,
      updatedTime: String(clock.now()),
      createdTime: String(T0),
    });
    const fundingTime = clock.now();
    const [funding, open, ...rest] = await executions(api);
    expect(rest).toEqual([]);
    expect(open).toMatchObject({ execType: 'Trade', seq: 1, execQty: '0.5' });
    expect(funding).toMatchObject({
      execType: 'Funding',
      orderType: 'UNKNOWN',
      stopOrderType: 'UNKNOWN',
      createType: '',
      side: 'Buy',
      execQty: '0.5',
      closedSize: '0', // the blank fault leaves funding rows alone
      execPrice: '61000',
      markPrice: '61000',
      execValue: '30500',
      feeRate: '0.0001',
      execFee: '3.05', // positive: paid
      orderId: `${fundingTime / 1000}-${SYMBOL}-2-Buy`,
      execTime: String(fundingTime),
      seq: 2,
    });
    expect(rows).toEqual([expect.objectContaining({ execType: 'Funding', seq: 2 })]);
    expect(after?.curRealisedPnl).toBe(new Big(before?.curRealisedPnl ?? '0').minus('3.05').toFixed());
    const onlyFunding = await executions(api, { execType: 'Funding' });
    expect(onlyFunding.map((e) => e.execId)).toEqual([funding?.execId]);
    const closes = await api.getClosedPnL({ category: 'linear', symbol: SYMBOL });
    expect(closes.result.list).toEqual([]);
    // The next fill continues the same cross sequence.
    sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    expect((await executions(api))[0]).toMatchObject({ execType: 'Trade', seq: 3 });
  });

  it('every open leg in hedge mode, shorts receiving a positive rate; flat positions and other accounts untouched', async () => {
    const { sim } = await start();
    sim.admin.setPrice(SYMBOL, '100');
    sim.admin.setPrice('ETHUSDT', '10');
    sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Buy', qty: '2' });
    sim.admin.openPosition({ accountId: HEDGE.id, symbol: SYMBOL, side: 'Sell', qty: '1' });
    sim.admin.openPosition({ accountId: HEDGE.id, symbol: 'ETHUSDT', side: 'Buy', qty: '1' });
    sim.admin.closePosition({ accountId: HEDGE.id, symbol: 'ETHUSDT', positionIdx: 1 });
    sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty: '1' });
    const res = await fetch(`${sim.url}/admin/settleFunding`, {
      method: 'POST',
      body: JSON.stringify({ accountId: HEDGE.id, rate: '0.0005' }),
    });
    const body = (await res.json()) as { ok: boolean; result: { positionIdx: number; execFee: string }[] };
    expect(body.ok).toBe(true);
    expect(body.result.map((r) => [r.positionIdx, r.execFee])).toEqual([
      [1, '0.1'],
      [2, '-0.05'],
    ]);
    const legs = await positionRows(client(sim, HEDGE));
    // Fills took seq 1..3 of BTCUSDT (the one-way account's open is 3): funding takes 4 and 5.
    expect(legs.map((p) => [p.positionIdx, p.side, p.size, p.seq])).toEqual([
      [1, 'Buy', '2', 4],
      [2, 'Sell', '1', 5],
    ]);
    expect(await positionRows(client(sim, HEDGE), 'ETHUSDT')).toMatchObject([
      { positionIdx: 1, size: '0', seq: 2 },
      { positionIdx: 2, size: '0', seq: -1 },
    ]);
    expect(await positionRows(client(sim))).toMatchObject([{ seq: 3 }]);
  });

  it('fundingEveryMs settles at each interval boundary, before anything can be read after it', async () => {
    const hour = 60 * 60 * 1000;
    const { sim, clock } = await start({ fundingEveryMs: 8 * hour, fundingRate: '-0.0002' });
    sim.admin.setPrice(SYMBOL, '100');
    clock.advance(hour);
    sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Buy', qty: '1' });
    clock.advance(20 * hour); // past T0 + 8 h and T0 + 16 h
    const api = client(sim);
    const [position] = await positionRows(api);
    expect(position).toMatchObject({ seq: 3, updatedTime: String(T0 + 16 * hour), size: '1' });
    const list = await executions(api);
    expect(list.map((e) => [e.execType, e.execTime, e.seq, e.execFee])).toEqual([
      ['Funding', String(T0 + 16 * hour), 3, '-0.02'],
      ['Funding', String(T0 + 8 * hour), 2, '-0.02'],
      ['Trade', String(T0 + hour), 1, '0.055'],
    ]);
    await expect(start({ fundingEveryMs: 1_000 })).rejects.toThrow(/funding every/);
  });
});

describe('position rows as Bybit documents them', () => {
  it('seq is a JSON number, and a flat position is a size-0 row with side "" in a by-symbol query', async () => {
    const { sim } = await start();
    sim.admin.setPrice(SYMBOL, '100');
    sim.admin.openPosition({ accountId: ONE_WAY.id, symbol: SYMBOL, side: 'Sell', qty: '1' });
    sim.admin.closePosition({ accountId: ONE_WAY.id, symbol: SYMBOL });
    const res = await fetch(`${sim.url}/admin/positions`, { method: 'POST', body: '{"accountId":"acct-1"}' });
    expect(await res.json()).toMatchObject({ ok: true, result: [] });
    const [flat] = await positionRows(client(sim));
    expect(flat).toMatchObject({ positionIdx: 0, side: '', size: '0', avgPrice: '0', seq: 2 });
    expect(typeof flat?.seq).toBe('number');
    const [never] = await positionRows(client(sim), 'ETHUSDT');
    expect(never).toMatchObject({ side: '', size: '0', seq: -1 });
    expect(typeof never?.seq).toBe('number');
  });
});
