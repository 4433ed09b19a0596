import type { CancelRecord, Decision } from './decision.js';
import type { PositionChange, PositionIdx, PositionSide, ProtectiveOrder } from './types.js';

/**
 * Sentences for people reading logs. Rule: a sentence states what was seen and what was (not) done;
 * it never sounds like routine success when the exchange disagreed with itself.
 */

const modeLabel: Record<PositionIdx, string> = { 0: 'one-way', 1: 'hedge long leg', 2: 'hedge short leg' };

export function describePosition(symbol: string, side: PositionSide, positionIdx: PositionIdx): string {
  return `${symbol} (${side}, ${modeLabel[positionIdx]})`;
}

/** `12:01:07` in UTC: the clock time an operator matches against exchange records. */
export function clockTime(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A span a person reads at a glance: seconds up to two minutes, then minutes, then hours. */
export function duration(ms: number): string {
  if (ms < 120_000) return seconds(ms);
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

export function describeOrders(orders: readonly ProtectiveOrder[]): string {
  if (orders.length === 0) return 'no orders';
  const kinds = [...new Set(orders.map((o) => abbreviate(o.kind)))].join('+');
  return `${countOf(orders.length, 'order')} (${kinds})`;
}

function abbreviate(kind: ProtectiveOrder['kind']): string {
  switch (kind) {
    case 'stop-loss':
      return 'SL';
    case 'take-profit':
      return 'TP';
    case 'trailing-stop':
      return 'trailing stop';
    case 'reduce-only':
      return 'reduce-only';
  }
}

/** "absent in 3 fetches 12.0 s apart": how many complete lists lacked a position, from first to last. */
export function describeFetches(looks: number, firstAt: number, lastAt: number): string {
  if (looks < 2) return `absent in ${countOf(looks, 'fetch', 'fetches')}`;
  return `absent in ${looks} fetches ${seconds(lastAt - firstAt)} apart`;
}

export function describeCloses(changes: readonly PositionChange[]): string {
  const closes = changes.filter((c) => c.closedQty !== '0');
  const last = closes[closes.length - 1];
  if (last === undefined) return 'no close event';
  const via = [...new Set(closes.map((c) => c.kind))].join('/');
  return `closed by ${via} fill ${last.id} at ${clockTime(last.time)}`;
}

/**
 * The sentence a decision comes to, composed once from what was actually done, for the log line and
 * the audit entry alike. Only a cancel depends on the outcome: every other decision's sentence is final
 * when decided, and a cancel's states its proof, to which this adds what became of the requests.
 */
export function describeOutcome(
  decision: Decision,
  cancels: readonly CancelRecord[] | undefined,
): { readonly message: string; readonly failed: boolean } {
  if (decision.kind !== 'cancel-orphans' || cancels === undefined)
    return { message: decision.message, failed: false };
  const count = (status: CancelRecord['status']) => cancels.filter((c) => c.status === status).length;
  if (count('skipped-shadow') > 0) {
    return {
      message: `shadow mode, nothing cancelled; a live run would cancel ${decision.message}`,
      failed: false,
    };
  }
  const failed = count('failed');
  const gone = count('already-gone');
  const goneWords = gone === 0 ? '' : `; ${gone} of them ${gone === 1 ? 'was' : 'were'} already gone`;
  if (failed === 0) return { message: `cancelled ${decision.message}${goneWords}`, failed: false };
  return {
    message: `cancelled ${cancels.length - failed} of ${decision.message}${goneWords}; ${failed} of ${cancels.length} cancels FAILED, to be retried after a fresh verification`,
    failed: true,
  };
}
