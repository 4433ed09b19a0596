import { describe, expect, it } from 'vitest';
import {
  HISTORY_WINDOW_MS,
  historyWindows,
  protectiveKindOf,
  toObservedPosition,
  toProtectiveOrder,
} from '#adapters/bybit/mapping.js';
import {
  type BybitOrder,
  type BybitPosition,
  orderEntrySchema,
  positionEntrySchema,
} from '#adapters/bybit/schemas.js';
import { rawOrder, rawPosition, T0 } from './bybit-fixtures.js';

const position = (over: Record<string, unknown> = {}): BybitPosition =>
  positionEntrySchema.parse(rawPosition(over));
const order = (over: Record<string, unknown> = {}): BybitOrder => orderEntrySchema.parse(rawOrder(over));

describe('position entries', () => {
  it('maps an open one-way long with its sequence and update time', () => {
    expect(toObservedPosition(position())).toEqual({
      symbol: 'BTCUSDT',
      positionIdx: 0,
      side: 'long',
      size: '0.5',
      updatedAt: T0,
      sequence: 8_172_331_004,
      protection: { stopLoss: '62000', markPrice: '64100', entryPrice: '64000.5' },
    });
  });

  it('reads the position-level stop and trailing stop only when set: "", "0" and "0.00" are none', () => {
    for (const unset of ['', '0', '0.00', undefined]) {
      const entry = position({ stopLoss: unset, trailingStop: unset });
      expect(toObservedPosition(entry)?.protection).toEqual({ markPrice: '64100', entryPrice: '64000.5' });
    }
    expect(toObservedPosition(position({ stopLoss: '', trailingStop: '150' }))?.protection).toMatchObject({
      trailingStop: '150',
    });
    // A malformed price is read as unset, never as a stop (nor as a failed list).
    expect(toObservedPosition(position({ stopLoss: 'n/a' }))?.protection).not.toHaveProperty('stopLoss');
  });

  it('maps a hedge short leg', () => {
    expect(toObservedPosition(position({ positionIdx: 2, side: 'Sell', size: '3' }))).toMatchObject({
      positionIdx: 2,
      side: 'short',
      size: '3',
    });
  });

  it('skips the size-0 placeholder Bybit lists for a flat symbol', () => {
    expect(toObservedPosition(position({ size: '0', side: '', updatedTime: '', seq: -1 }))).toBeUndefined();
  });

  it('omits the sequence when Bybit says -1 (never traded), in either spelling', () => {
    expect(toObservedPosition(position({ seq: -1 }))).not.toHaveProperty('sequence');
    expect(toObservedPosition(position({ seq: '-1' }))).not.toHaveProperty('sequence');
  });

  it('rejects an open entry without side or update time, or a hedge leg with the wrong side', () => {
    expect(positionEntrySchema.safeParse(rawPosition({ side: '' })).success).toBe(false);
    expect(positionEntrySchema.safeParse(rawPosition({ updatedTime: '' })).success).toBe(false);
    expect(positionEntrySchema.safeParse(rawPosition({ positionIdx: 1, side: 'Sell' })).success).toBe(false);
    expect(positionEntrySchema.safeParse(rawPosition({ size: 0.5 })).success).toBe(false);
    expect(positionEntrySchema.safeParse(rawPosition({ size: '1e-3' })).success).toBe(false);
    expect(positionEntrySchema.safeParse(rawPosition({ positionIdx: 3 })).success).toBe(false);
  });
});

describe('protective orders', () => {
  it('classifies TP/SL/trailing and plain reduce-only orders', () => {
    expect(protectiveKindOf(order())).toBe('stop-loss');
    expect(protectiveKindOf(order({ stopOrderType: 'PartialTakeProfit' }))).toBe('take-profit');
    expect(protectiveKindOf(order({ stopOrderType: 'TrailingStop' }))).toBe('trailing-stop');
    expect(
      protectiveKindOf(
        order({ stopOrderType: '', orderType: 'Limit', reduceOnly: true, closeOnTrigger: false }),
      ),
    ).toBe('reduce-only');
    expect(protectiveKindOf(order({ stopOrderType: 'Stop', reduceOnly: false, closeOnTrigger: true }))).toBe(
      'reduce-only',
    );
  });

  it('never counts an entry order (not reduce-only, not a TP/SL) as protective', () => {
    expect(
      protectiveKindOf(order({ stopOrderType: '', reduceOnly: false, closeOnTrigger: false })),
    ).toBeUndefined();
    expect(
      protectiveKindOf(order({ stopOrderType: 'Stop', reduceOnly: false, closeOnTrigger: false })),
    ).toBeUndefined();
  });

  it('maps the order with trigger price and creation time, for its own position index only', () => {
    expect(toProtectiveOrder(order(), 0)).toEqual({
      orderId: 'f00dfeed-0000-4000-8000-000000000001',
      symbol: 'BTCUSDT',
      positionIdx: 0,
      kind: 'stop-loss',
      triggerPrice: '62000',
      // A position-level stop lists qty "0": it closes the whole position.
      triggersOn: 'fall',
      createdAt: T0 - 30_000,
    });
    expect(toProtectiveOrder(order({ positionIdx: 1 }), 2)).toBeUndefined();
    expect(toProtectiveOrder(order({ orderStatus: 'Cancelled' }), 0)).toBeUndefined();
  });

  it('reads a size of "0" (position-level TP/SL) as the whole position, and the trigger direction', () => {
    expect(toProtectiveOrder(order({ qty: '0.2', stopOrderType: 'PartialStopLoss' }), 0)).toMatchObject({
      qty: '0.2',
    });
    expect(toProtectiveOrder(order({ triggerDirection: 1 }), 0)).toMatchObject({ triggersOn: 'rise' });
    expect(toProtectiveOrder(order({ triggerDirection: 0 }), 0)).not.toHaveProperty('triggersOn');
  });

  it('omits a trigger price of "" or "0" (plain reduce-only limits)', () => {
    const limit = order({ stopOrderType: '', triggerPrice: '0', orderType: 'Limit', orderStatus: 'New' });
    expect(toProtectiveOrder(limit, 0)).not.toHaveProperty('triggerPrice');
    expect(toProtectiveOrder(order({ triggerPrice: '' }), 0)).not.toHaveProperty('triggerPrice');
  });
});

describe('history windows (7 days per query)', () => {
  it('one open-ended window for a recent state', () => {
    expect(historyWindows(T0, T0 + 60_000)).toEqual([{ startTime: T0 }]);
  });

  it('closed 7-day windows up to the last, which is left open-ended', () => {
    const windows = historyWindows(T0, T0 + 2 * HISTORY_WINDOW_MS + 5_000);
    expect(windows).toEqual([
      { startTime: T0, endTime: T0 + HISTORY_WINDOW_MS },
      { startTime: T0 + HISTORY_WINDOW_MS, endTime: T0 + 2 * HISTORY_WINDOW_MS },
      { startTime: T0 + 2 * HISTORY_WINDOW_MS },
    ]);
    for (const w of windows)
      if (w.endTime !== undefined) expect(w.endTime - w.startTime).toBeLessThanOrEqual(HISTORY_WINDOW_MS);
  });

  it('does not let the open-ended window end just before the exchange clock', () => {
    // 30 s short of 7 days: an exchange clock a little ahead could fall outside [start, start + 7d].
    expect(historyWindows(T0, T0 + HISTORY_WINDOW_MS - 30_000)).toHaveLength(2);
  });
});
