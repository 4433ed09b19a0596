import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attributeFills, type CloseRecords, closeRecordsOf } from '#adapters/bybit/attribution.js';
import { type BybitExecution, executionEntrySchema } from '#adapters/bybit/schemas.js';
import { accountForClose } from '#core/evidence.js';
import type { PositionIdx } from '#core/types.js';
import { rawExecution, T0, trackedBtcLong } from './bybit-fixtures.js';

const fill = (over: Record<string, unknown> = {}): BybitExecution =>
  executionEntrySchema.parse(rawExecution(over));

/**
 * A small exchange, one symbol: each step is one order's fill, in one-way or hedge mode, and the exchange
 * writes `closedSize` and a closed-PnL record for what it closed. The same history is then read with
 * some `closedSize` values blanked.
 */
interface History {
  readonly hedge: boolean;
  readonly steps: readonly { buy: boolean; qty: number; leg: 1 | 2; close: boolean }[];
  readonly blanks: readonly boolean[];
  readonly pnlLags: readonly boolean[];
}

const historyArb: fc.Arbitrary<History> = fc.record({
  hedge: fc.boolean(),
  steps: fc.array(
    fc.record({
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 4 }),
      leg: fc.constantFrom<1 | 2>(1, 2),
      close: fc.boolean(),
    }),
    { minLength: 1, maxLength: 8 },
  ),
  blanks: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  pnlLags: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
});

function exchangeHistory(h: History, blank: (i: number) => boolean) {
  const legs: Record<PositionIdx, { side: 'Buy' | 'Sell'; size: number }> = {
    0: { side: 'Buy', size: 4 },
    1: { side: 'Buy', size: 4 },
    2: { side: 'Sell', size: 4 },
  };
  const fills: BybitExecution[] = [];
  const pnl: { orderId: string; side: 'Buy' | 'Sell'; closed: number; index: number }[] = [];
  h.steps.forEach((s, i) => {
    let side: 'Buy' | 'Sell';
    let closed: number;
    if (h.hedge) {
      const leg = legs[s.leg];
      const closing = s.close && leg.size > 0;
      side = closing ? (leg.side === 'Buy' ? 'Sell' : 'Buy') : leg.side;
      closed = closing ? Math.min(s.qty, leg.size) : 0;
      leg.size += closing ? -closed : s.qty;
    } else {
      const leg = legs[0];
      side = s.buy ? 'Buy' : 'Sell';
      closed = side !== leg.side && leg.size > 0 ? Math.min(s.qty, leg.size) : 0;
      if (side === leg.side || leg.size === 0) {
        leg.side = side;
        leg.size += s.qty;
      } else if (s.qty > leg.size) {
        leg.side = side;
        leg.size = s.qty - leg.size;
      } else leg.size -= s.qty;
    }
    const qty = h.hedge ? (closed > 0 ? closed : s.qty) : s.qty;
    fills.push(
      fill({
        execId: `x-${i}`,
        orderId: `o-${i}`,
        side,
        execQty: String(qty),
        closedSize: blank(i) ? '' : String(closed),
        seq: 101 + i,
        execTime: String(T0 + 1_000 * (i + 1)),
      }),
    );
    if (closed > 0) pnl.push({ orderId: `o-${i}`, side, closed, index: i });
  });
  return { fills, pnl };
}

describe('attribution without closedSize, over arbitrary histories', () => {
  const positions = (hedge: boolean) =>
    hedge
      ? [
          trackedBtcLong({ positionIdx: 1, size: '4', stateSequence: 100 }),
          trackedBtcLong({ positionIdx: 2, side: 'short', size: '4', stateSequence: 100 }),
        ]
      : [trackedBtcLong({ size: '4', stateSequence: 100 })];

  it('never finds a close the full record does not show, and finds every one once closed-PnL has them all', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const truth = exchangeHistory(h, () => false);
        const blanked = exchangeHistory(h, (i) => h.blanks[i] ?? false);
        const allRecords = closeRecordsOf(
          truth.pnl.map((p) => ({
            symbol: 'BTCUSDT',
            orderId: p.orderId,
            side: p.side,
            closedSize: String(p.closed),
          })),
          'BTCUSDT',
        );
        // Some closed-PnL records not written yet.
        const someRecords = closeRecordsOf(
          truth.pnl
            .filter((p) => !(h.pnlLags[p.index] ?? false))
            .map((p) => ({
              symbol: 'BTCUSDT',
              orderId: p.orderId,
              side: p.side,
              closedSize: String(p.closed),
            })),
          'BTCUSDT',
        );
        for (const position of positions(h.hedge)) {
          const closedBy = (fills: readonly BybitExecution[], records?: CloseRecords) => {
            const a = attributeFills(fills, position, records);
            if (a.status !== 'attributed') throw new Error('closed-PnL was given');
            return accountForClose(position, a.changes).closed;
          };
          const known = closedBy(truth.fills);
          expect(closedBy(blanked.fills, someRecords) && !known).toBe(false);
          expect(closedBy(blanked.fills, allRecords)).toBe(known);
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
