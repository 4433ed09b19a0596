/**
 * What the simulated venue's history answers. Its fills are already attributed to positions; with
 * the `blankClosedSizeProbability` fault they are instead read the way stopguard reads Bybit's: as
 * execution records, some without `closedSize` (Bybit's documented example), through the adapter's
 * own attribution, with closed-PnL records (one per closing fill, as visible as the fill itself) when
 * a fill lacks it. The `blank-closed-size` profile thereby puts the real attribution code through the
 * million-cycle runs.
 */

import { attributeFills, closeRecordsOf } from '#adapters/bybit/attribution.js';
import type { BybitClosedPnl, BybitExecution } from '#adapters/bybit/schemas.js';
import { positionId } from '#core/keys.js';
import type {
  CloseEvidence,
  CloseKind,
  PositionChange,
  PositionIdx,
  SnapshotFailure,
  TrackedPosition,
} from '#core/types.js';
import type { VenueFill } from './venue-records.js';

const EXEC_TYPE: Partial<Record<CloseKind, string>> = {
  liquidation: 'BustTrade',
  'auto-deleverage': 'AdlTrade',
  settlement: 'Settle',
};
const STOP_ORDER_TYPE: Partial<Record<CloseKind, string>> = {
  'stop-loss': 'StopLoss',
  'take-profit': 'TakeProfit',
  'trailing-stop': 'TrailingStop',
};

/**
 * What the adapter makes of `fills` (every fill of the position's symbol history shows, both hedge legs)
 * for `position`, and whether it had to read closed-PnL to get there. `blank` says which fills come
 * without `closedSize`.
 */
export function bybitShapedChanges(
  fills: readonly VenueFill[],
  position: TrackedPosition,
  blank: (fill: VenueFill) => boolean,
): { readonly changes: readonly PositionChange[]; readonly readClosedPnl: boolean } {
  const executions: BybitExecution[] = fills.map((f) => ({
    symbol: f.symbol,
    execId: f.id,
    orderId: f.orderId ?? `o-${f.id}`,
    side: f.side,
    execQty: String(Number(f.closedQty) + Number(f.openedQty)),
    closedSize: blank(f) ? undefined : f.closedQty,
    execType: EXEC_TYPE[f.kind] ?? 'Trade',
    execTime: f.time,
    ...(f.sequence === undefined ? {} : { seq: f.sequence }),
    stopOrderType: STOP_ORDER_TYPE[f.kind] ?? '',
    createType: '',
  }));
  const first = attributeFills(executions, position);
  if (first.status === 'attributed') return { changes: first.changes, readClosedPnl: false };
  const closedPnl: BybitClosedPnl[] = fills
    .filter((f) => Number(f.closedQty) > 0)
    .map((f) => ({
      symbol: f.symbol,
      orderId: f.orderId ?? `o-${f.id}`,
      side: f.side,
      closedSize: f.closedQty,
    }));
  const second = attributeFills(executions, position, closeRecordsOf(closedPnl, position.symbol));
  return { changes: second.status === 'attributed' ? second.changes : [], readClosedPnl: true };
}

/**
 * One history query for several positions: each position's fills since its state, as visible now
 * (a venue's startTime filter is inclusive; telling which fills follow the state is the core's job).
 */
export function historyAnswers(query: {
  readonly positions: readonly TrackedPosition[];
  readonly now: number;
  readonly fillsOf: (symbol: string, positionIdx: PositionIdx) => readonly VenueFill[];
  readonly failure?: SnapshotFailure;
  /** Which fills come without closedSize; absent: none, and fills are read as attributed. */
  readonly blank?: (fill: VenueFill) => boolean;
}): { readonly answers: ReadonlyMap<string, CloseEvidence>; readonly readClosedPnl: boolean } {
  const { now, failure, blank } = query;
  const answers = new Map<string, CloseEvidence>();
  let readClosedPnl = false;
  for (const position of query.positions) {
    const id = positionId(position.symbol, position.positionIdx);
    if (failure !== undefined) {
      answers.set(id, { status: 'unknown', searchedFrom: position.stateUpdatedAt, failure });
      continue;
    }
    const visible = (f: VenueFill) => f.visibleAt <= now && f.time >= position.stateUpdatedAt;
    let changes: readonly PositionChange[];
    if (blank !== undefined) {
      // Bybit lists a symbol's fills of both hedge legs together, some without closedSize.
      const fills = ([0, 1, 2] as const).flatMap((idx) =>
        query.fillsOf(position.symbol, idx).filter(visible),
      );
      const read = bybitShapedChanges(fills, position, blank);
      readClosedPnl ||= read.readClosedPnl;
      changes = read.changes;
    } else {
      changes = query.fillsOf(position.symbol, position.positionIdx).filter(visible);
    }
    answers.set(id, { status: 'known', searchedFrom: position.stateUpdatedAt, searchedTo: now, changes });
  }
  return { answers, readClosedPnl };
}
