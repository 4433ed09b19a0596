import { isPositive, remainingAfter } from './quantity.js';
import type {
  ObservedPosition,
  PositionChange,
  PositionIdx,
  PositionRecheck,
  ProtectiveOrder,
  SymbolRecheck,
  TrackedPosition,
} from './types.js';

/**
 * Whether a fill happened after the position state we last saw. The venue's per-symbol sequence is
 * clock-free and preferred; exchange time is the fallback.
 */
export function isAfterState(change: PositionChange, position: TrackedPosition): boolean {
  if (change.sequence !== undefined && position.stateSequence !== undefined) {
    return change.sequence > position.stateSequence;
  }
  return change.time > position.stateUpdatedAt;
}

/**
 * Whether an observation shows the very position state we recorded, rather than one that traded or
 * was closed and reopened since. Only a suspect that comes back unchanged proves the earlier list
 * was incomplete.
 */
export function isSameState(observed: ObservedPosition, position: TrackedPosition): boolean {
  if (observed.sequence !== undefined && position.stateSequence !== undefined) {
    return observed.sequence === position.stateSequence;
  }
  return observed.updatedAt === position.stateUpdatedAt && observed.size === position.size;
}

export interface CloseAccounting {
  /** True only when fills after the last seen state close at least the whole size. */
  readonly closed: boolean;
  /** Size left after those fills (negative: flipped to the other side). */
  readonly remaining: string;
  /** The fills counted, in time order. */
  readonly changes: readonly PositionChange[];
  /** Time of the last fill that reduced the position, when any did. */
  readonly lastCloseAt?: number;
}

/**
 * Accounts the history against the last seen state: `size - closed + opened`. A partial close, or a
 * close followed by an add, is not a close. This is what makes "history shows a close" mean the
 * position actually reached zero, not that some fill on that symbol happened.
 */
export function accountForClose(
  position: TrackedPosition,
  changes: readonly PositionChange[],
): CloseAccounting {
  const counted = changes.filter((c) => isAfterState(c, position)).sort((a, b) => a.time - b.time);
  const remaining = remainingAfter(
    position.size,
    counted.map((c) => c.closedQty),
    counted.map((c) => c.openedQty),
  );
  const closes = counted.filter((c) => isPositive(c.closedQty));
  const lastClose = closes[closes.length - 1];
  const closed = lastClose !== undefined && !isPositive(remaining);
  return lastClose === undefined
    ? { closed, remaining, changes: counted }
    : { closed, remaining, changes: counted, lastCloseAt: lastClose.time };
}

/**
 * Splits the resting orders of a closed position into provable orphans (placed before its close)
 * and the rest (placed after, or of unknown age), which may protect a position reopened since.
 */
export function partitionOrphans(
  position: TrackedPosition,
  orders: readonly ProtectiveOrder[],
  closedAt: number,
): { readonly orphans: readonly ProtectiveOrder[]; readonly leftAlone: readonly ProtectiveOrder[] } {
  const own = ordersOf(position, orders);
  const orphans = own.filter((o) => o.createdAt !== undefined && o.createdAt <= closedAt);
  const leftAlone = own.filter((o) => !orphans.includes(o));
  return { orphans, leftAlone };
}

/** The resting orders that belong to this position at all (same symbol and position index). */
export function ordersOf(
  position: TrackedPosition,
  orders: readonly ProtectiveOrder[],
): readonly ProtectiveOrder[] {
  return orders.filter((o) => o.symbol === position.symbol && o.positionIdx === position.positionIdx);
}

/** What a look at a whole symbol says about one of its legs; an open row wins over a flat one. */
export function recheckOfLeg(recheck: SymbolRecheck, positionIdx: PositionIdx): PositionRecheck {
  const { checkedAt } = recheck;
  const open = recheck.open.find((p) => p.positionIdx === positionIdx);
  if (open !== undefined) return { status: 'open', checkedAt, position: open };
  if (recheck.status === 'unknown') return { status: 'unknown', checkedAt, failure: recheck.failure };
  return recheck.flat.includes(positionIdx) ? { status: 'flat', checkedAt } : { status: 'absent', checkedAt };
}
