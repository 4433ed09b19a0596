import { describe, expect, it } from 'vitest';
import {
  attributeFills,
  type CloseRecords,
  closeKindOf,
  closeRecordsOf,
  isAfterSeenState,
} from '#adapters/bybit/attribution.js';
import { type BybitExecution, executionEntrySchema } from '#adapters/bybit/schemas.js';
import { accountForClose } from '#core/evidence.js';
import type { TrackedPosition } from '#core/types.js';
import { rawExecution, T0, trackedBtcLong } from './bybit-fixtures.js';

/**
 * What Bybit's fills did to a tracked position (attribution.ts): with `closedSize` as Bybit writes it
 * on live answers, and without it (blank in the docs' examples since 2023-04, absent before), where
 * closed-PnL must confirm every close the fills' sides suggest.
 */
const fill = (over: Record<string, unknown> = {}): BybitExecution =>
  executionEntrySchema.parse(rawExecution(over));

/** One fill's attribution to a position whatever its state (every fill counts as after it). */
function attributeFill(f: BybitExecution, p: TrackedPosition, records?: CloseRecords) {
  const { stateSequence: _all, ...anyState } = p;
  const attributed = attributeFills([f], { ...anyState, stateUpdatedAt: 0 }, records);
  if (attributed.status === 'needs-close-records') return attributed.status;
  const change = attributed.changes[0];
  return change === undefined ? undefined : { closedQty: change.closedQty, openedQty: change.openedQty };
}

/** The changes a list of fills makes to a position after its state (closed-PnL not needed). */
function changesSince(fills: readonly BybitExecution[], p: TrackedPosition) {
  const attributed = attributeFills(fills, p);
  if (attributed.status !== 'attributed') throw new Error('closed-PnL needed');
  return attributed.changes;
}

describe('fill attribution, one-way mode (idx 0)', () => {
  const long = trackedBtcLong();

  it('a Sell closing the whole long closes it', () => {
    expect(attributeFill(fill({ side: 'Sell', execQty: '0.5', closedSize: '0.5' }), long)).toEqual({
      closedQty: '0.5',
      openedQty: '0',
    });
  });

  it('a partial close closes only its closedSize', () => {
    expect(attributeFill(fill({ execQty: '0.2', closedSize: '0.2' }), long)).toEqual({
      closedQty: '0.2',
      openedQty: '0',
    });
  });

  it('a Buy adds to the long (closedSize "0", as live answers write it on opening fills)', () => {
    expect(attributeFill(fill({ side: 'Buy', execQty: '0.3', closedSize: '0' }), long)).toEqual({
      closedQty: '0',
      openedQty: '0.3',
    });
  });

  it('a flip closes the long and opens the remainder short', () => {
    expect(attributeFill(fill({ side: 'Sell', execQty: '1.2', closedSize: '0.5' }), long)).toEqual({
      closedQty: '0.5',
      openedQty: '0.7',
    });
  });

  it('is symmetric for a short', () => {
    const short = trackedBtcLong({ side: 'short' });
    expect(attributeFill(fill({ side: 'Buy', execQty: '2', closedSize: '0.5' }), short)).toEqual({
      closedQty: '0.5',
      openedQty: '1.5',
    });
    expect(attributeFill(fill({ side: 'Sell', execQty: '0.1', closedSize: '0' }), short)).toEqual({
      closedQty: '0',
      openedQty: '0.1',
    });
  });

  it('keeps decimal exactness (0.3 - 0.1 is 0.2, not 0.19999999999999998)', () => {
    expect(attributeFill(fill({ execQty: '0.3', closedSize: '0.1' }), long)).toMatchObject({
      openedQty: '0.2',
    });
  });

  it('ignores funding, qty-less records and other symbols, even with a blank closedSize', () => {
    expect(attributeFill(fill({ execType: 'Funding', execQty: '', closedSize: '' }), long)).toBeUndefined();
    expect(
      attributeFill(fill({ execType: 'Funding', execQty: '0.5', closedSize: '0' }), long),
    ).toBeUndefined();
    expect(attributeFill(fill({ execQty: '0', closedSize: '0' }), long)).toBeUndefined();
    expect(attributeFill(fill({ symbol: 'ETHUSDT' }), long)).toBeUndefined();
  });
});

describe('fill attribution, hedge mode', () => {
  const longLeg = trackedBtcLong({ positionIdx: 1 });
  const shortLeg = trackedBtcLong({ positionIdx: 2, side: 'short' });

  it('a Sell that closes something closes the long leg only', () => {
    const sell = fill({ side: 'Sell', execQty: '0.5', closedSize: '0.5' });
    expect(attributeFill(sell, longLeg)).toEqual({ closedQty: '0.5', openedQty: '0' });
    expect(attributeFill(sell, shortLeg)).toBeUndefined();
  });

  it('a Sell that closes nothing opened the short leg, not the long', () => {
    const sell = fill({ side: 'Sell', execQty: '0.4', closedSize: '0' });
    expect(attributeFill(sell, longLeg)).toBeUndefined();
    expect(attributeFill(sell, shortLeg)).toEqual({ closedQty: '0', openedQty: '0.4' });
  });

  it('a Buy with closedSize > 0 belongs to the short leg; without, it adds to the long', () => {
    const closingBuy = fill({ side: 'Buy', execQty: '0.4', closedSize: '0.4' });
    expect(attributeFill(closingBuy, longLeg)).toBeUndefined();
    expect(attributeFill(closingBuy, shortLeg)).toEqual({ closedQty: '0.4', openedQty: '0' });
    const addingBuy = fill({ side: 'Buy', execQty: '0.1', closedSize: '0' });
    expect(attributeFill(addingBuy, longLeg)).toEqual({ closedQty: '0', openedQty: '0.1' });
    expect(attributeFill(addingBuy, shortLeg)).toBeUndefined();
  });
});

describe('close kinds', () => {
  it.each([
    [{ execType: 'Trade', stopOrderType: 'StopLoss' }, 'stop-loss'],
    [{ execType: 'Trade', stopOrderType: 'PartialStopLoss' }, 'stop-loss'],
    [{ execType: 'Trade', stopOrderType: 'TakeProfit' }, 'take-profit'],
    [{ execType: 'Trade', stopOrderType: 'PartialTakeProfit' }, 'take-profit'],
    [{ execType: 'Trade', stopOrderType: 'TrailingStop' }, 'trailing-stop'],
    [
      { execType: 'BustTrade', stopOrderType: 'UNKNOWN', createType: 'CreateByTakeOver_PassThrough' },
      'liquidation',
    ],
    [{ execType: 'Trade', stopOrderType: '', createType: 'CreateByLiq' }, 'liquidation'],
    [
      { execType: 'AdlTrade', stopOrderType: 'UNKNOWN', createType: 'CreateByAdl_PassThrough' },
      'auto-deleverage',
    ],
    [{ execType: 'Delivery', stopOrderType: '' }, 'settlement'],
    [{ execType: 'Settle', stopOrderType: '' }, 'settlement'],
    [{ execType: 'Trade', stopOrderType: 'UNKNOWN', createType: 'CreateByUser' }, 'manual'],
    [{ execType: 'Trade', stopOrderType: 'Stop', createType: 'CreateByStopOrder' }, 'manual'],
    [{ execType: 'Trade', stopOrderType: '', createType: 'CreateByStopLoss' }, 'stop-loss'],
    [{ execType: 'MovePosition', stopOrderType: '' }, 'other'],
  ])('%o → %s', (over, kind) => {
    expect(closeKindOf(fill(over))).toBe(kind);
  });

  it('a liquidation is a liquidation even when a stop type is attached', () => {
    expect(closeKindOf(fill({ execType: 'BustTrade', stopOrderType: 'StopLoss' }))).toBe('liquidation');
  });
});

describe('ordering fills against the last seen state', () => {
  const state = { stateUpdatedAt: T0, stateSequence: 100 };

  it('prefers the cross sequence when both sides have one, whatever the clocks say', () => {
    // Same millisecond as the state, but a later sequence: it happened after.
    expect(isAfterSeenState(fill({ seq: 101, execTime: String(T0) }), state)).toBe(true);
    // A later timestamp but an earlier sequence: already reflected in the state.
    expect(isAfterSeenState(fill({ seq: 99, execTime: String(T0 + 5_000) }), state)).toBe(false);
    expect(isAfterSeenState(fill({ seq: 100, execTime: String(T0 + 5_000) }), state)).toBe(false);
  });

  it('falls back to strictly-later exec time when a sequence is missing on either side', () => {
    const noSeq = { stateUpdatedAt: T0 };
    expect(isAfterSeenState(fill({ seq: 101, execTime: String(T0) }), noSeq)).toBe(false);
    expect(isAfterSeenState(fill({ seq: 101, execTime: String(T0 + 1) }), noSeq)).toBe(true);
    expect(isAfterSeenState(fill({ seq: undefined, execTime: String(T0 + 1) }), state)).toBe(true);
  });
});

describe('changesSince: the evidence the core accounts', () => {
  it('a stop-loss close after the state closes the position', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const changes = changesSince(
      [
        fill({
          execId: 'x-open',
          side: 'Buy',
          execQty: '0.5',
          closedSize: '',
          seq: 100,
          execTime: String(T0),
        }),
        fill({ execId: 'x-sl', stopOrderType: 'StopLoss', seq: 101, execTime: String(T0 + 60_000) }),
      ],
      p,
    );
    expect(changes).toEqual([
      {
        id: 'x-sl',
        source: 'execution',
        time: T0 + 60_000,
        sequence: 101,
        closedQty: '0.5',
        openedQty: '0',
        kind: 'stop-loss',
        orderId: 'a1b2c3d4-0000-4000-8000-000000000001',
      },
    ]);
    expect(accountForClose(p, changes).closed).toBe(true);
  });

  it('a partial close is not a close', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const changes = changesSince([fill({ execQty: '0.2', closedSize: '0.2', seq: 101 })], p);
    expect(accountForClose(p, changes)).toMatchObject({ closed: false, remaining: '0.3' });
  });

  it('a close followed by a reopen is not a close', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const changes = changesSince(
      [
        // Newest first, as Bybit lists them.
        fill({
          execId: 'x-2',
          side: 'Buy',
          execQty: '0.5',
          closedSize: '0',
          seq: 102,
          execTime: String(T0 + 9_000),
        }),
        fill({ execId: 'x-1', seq: 101, execTime: String(T0 + 5_000) }),
      ],
      p,
    );
    expect(changes.map((c) => c.id)).toEqual(['x-1', 'x-2']);
    expect(accountForClose(p, changes)).toMatchObject({ closed: false, remaining: '0.5' });
  });

  it('a one-way flip leaves a position at the index; closing the flipped short then closes it', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const flip = fill({ execId: 'x-flip', execQty: '1.5', closedSize: '0.5', seq: 101 });
    expect(accountForClose(p, changesSince([flip], p))).toMatchObject({ closed: false, remaining: '1' });
    const closeShort = fill({
      execId: 'x-close',
      side: 'Buy',
      execQty: '1',
      closedSize: '1',
      seq: 102,
      execTime: String(T0 + 90_000),
    });
    expect(accountForClose(p, changesSince([closeShort, flip], p))).toMatchObject({
      closed: true,
      remaining: '0',
    });
  });

  it('a liquidation and an ADL in hedge mode close their legs with their kinds', () => {
    const longLeg = trackedBtcLong({ positionIdx: 1, stateSequence: 100 });
    const bust = fill({
      execId: 'x-bust',
      execType: 'BustTrade',
      createType: 'CreateByTakeOver_PassThrough',
      seq: 101,
    });
    expect(changesSince([bust], longLeg)).toMatchObject([{ kind: 'liquidation', closedQty: '0.5' }]);

    const shortLeg = trackedBtcLong({ positionIdx: 2, side: 'short', size: '2', stateSequence: 100 });
    const adl = fill({
      execId: 'x-adl',
      side: 'Buy',
      execType: 'AdlTrade',
      execQty: '2',
      closedSize: '2',
      seq: 101,
    });
    const changes = changesSince([adl, bust], shortLeg);
    expect(changes).toMatchObject([{ id: 'x-adl', kind: 'auto-deleverage', closedQty: '2' }]);
    expect(accountForClose(shortLeg, changes).closed).toBe(true);
  });

  it('ignores funding, fills of the seen state, and duplicates from overlapping pages', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const close = fill({ execId: 'x-close', seq: 103 });
    const changes = changesSince(
      [
        fill({ execId: 'x-fund', execType: 'Funding', execQty: '0.5', closedSize: '0', seq: 102 }),
        fill({ execId: 'x-old', seq: 99 }),
        close,
        close,
      ],
      p,
    );
    expect(changes.map((c) => c.id)).toEqual(['x-close']);
  });

  it('orders by time, then sequence (seq repeats for fills concluded together)', () => {
    const p = trackedBtcLong({ stateSequence: 100 });
    const changes = changesSince(
      [
        fill({ execId: 'b', seq: 102, execQty: '0.25', closedSize: '0.25', execTime: String(T0 + 10) }),
        fill({ execId: 'a', seq: 101, execQty: '0.25', closedSize: '0.25', execTime: String(T0 + 10) }),
      ],
      p,
    );
    expect(changes.map((c) => c.id)).toEqual(['a', 'b']);
  });
});

describe('a blank or missing closedSize is unknown, never 0', () => {
  const long = trackedBtcLong();
  const records = (...r: [orderId: string, side: 'Buy' | 'Sell', closed: string][]): CloseRecords =>
    closeRecordsOf(
      r.map(([orderId, side, closedSize]) => ({ symbol: 'BTCUSDT', orderId, side, closedSize })),
      'BTCUSDT',
    );

  it('reads "" and a missing field alike, and asks for closed-PnL before attributing either', () => {
    expect(fill({ closedSize: '' }).closedSize).toBeUndefined();
    const { closedSize: _none, ...noField } = rawExecution();
    expect(executionEntrySchema.parse(noField).closedSize).toBeUndefined();
    expect(attributeFill(fill({ side: 'Sell', execQty: '0.5', closedSize: '' }), long)).toBe(
      'needs-close-records',
    );
  });

  it('one-way: a close the sides walk is counted as far as closed-PnL confirms it for that order', () => {
    const sell = fill({ side: 'Sell', execQty: '0.5', closedSize: '', orderId: 'o-1' });
    expect(attributeFill(sell, long, records(['o-1', 'Sell', '0.5']))).toEqual({
      closedQty: '0.5',
      openedQty: '0',
    });
    // Closed-PnL not written yet (or silent): no close is counted.
    expect(attributeFill(sell, long, records())).toEqual({ closedQty: '0', openedQty: '0' });
    // A flip: the walk closes 0.5 and opens 0.7 short; closed-PnL confirms the 0.5.
    const flip = fill({ side: 'Sell', execQty: '1.2', closedSize: '', orderId: 'o-2' });
    expect(attributeFill(flip, long, records(['o-2', 'Sell', '0.5']))).toEqual({
      closedQty: '0.5',
      openedQty: '0.7',
    });
    // An add on the long's own side closes nothing, whatever closed-PnL says about other orders.
    const buy = fill({ side: 'Buy', execQty: '0.3', closedSize: '', orderId: 'o-3' });
    expect(attributeFill(buy, long, records(['o-3', 'Sell', '9']))).toEqual({
      closedQty: '0',
      openedQty: '0.3',
    });
  });

  it('hedge: closed-PnL tells which leg a fill of either side belongs to', () => {
    const longLeg = trackedBtcLong({ positionIdx: 1 });
    const shortLeg = trackedBtcLong({ positionIdx: 2, side: 'short' });
    const closingSell = fill({ side: 'Sell', execQty: '0.5', closedSize: '', orderId: 'o-1' });
    const openingSell = fill({ side: 'Sell', execQty: '0.4', closedSize: '', orderId: 'o-2' });
    const r = records(['o-1', 'Sell', '0.5']);
    expect(attributeFill(closingSell, longLeg, r)).toEqual({ closedQty: '0.5', openedQty: '0' });
    expect(attributeFill(closingSell, shortLeg, r)).toBeUndefined();
    expect(attributeFill(openingSell, longLeg, r)).toBeUndefined();
    expect(attributeFill(openingSell, shortLeg, r)).toEqual({ closedQty: '0', openedQty: '0.4' });
  });

  it('sums closed-PnL per order (a recording may hold one record per closing fill)', () => {
    const r = records(['o-1', 'Sell', '0.2'], ['o-1', 'Sell', '0.3']);
    expect(r.get('o-1')?.closed.toString()).toBe('0.5');
  });
});
