/**
 * The judge every reconciler is measured by: which protective orders outlived their position (orphans),
 * how each orphan ended, and whether each cancel through the API cleaned an orphan or stripped a live
 * position of its protection (a false cancel). The matching engine reports the moments; this file judges.
 */

import Big from 'big.js';
import type { Mutable } from './account-state.js';
import { type PositionIdx, type ProtectiveKind, RESTING_STATUSES, type SimOrder } from './types.js';

/** A cancel that hit a protective order while its position was still open: the incident's harm. */
export interface FalseCancel {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly kind: ProtectiveKind;
  /** Size of the position the order was protecting, at the moment of the cancel. */
  readonly positionSize: string;
  readonly at: number;
}

export type OrphanEnd =
  /** Cancelled through the API: the cleanup a reconciler owes. */
  | 'cancelled'
  /** Fired with nothing to reduce, so the exchange cancelled it. */
  | 'exchange-cancelled'
  /** The position was reopened: the order protects (or endangers) the new holding, no longer an orphan. */
  | 'position-reopened';

/** A protective order left resting after its position went to size 0. */
export interface OrphanRecord {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly kind: ProtectiveKind;
  readonly orphanedAt: number;
  /** Set when the orphan was cancelled through the API; `cleanedAt - orphanedAt` is the cleanup delay. */
  readonly cleanedAt?: number;
  readonly endedAt?: number;
  readonly end?: OrphanEnd;
}

/** A successful cancel through the API, with the judge's verdict on it. */
export interface JudgedCancel {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly at: number;
  readonly falseCancel: boolean;
  readonly cleanedOrphan: boolean;
}

export class GroundTruthLedger {
  private readonly falseCancelLog: FalseCancel[] = [];
  private readonly orphanLog: Mutable<OrphanRecord>[] = [];
  private readonly cancelLog: JudgedCancel[] = [];

  falseCancels(): FalseCancel[] {
    return [...this.falseCancelLog];
  }

  /** Every orphan so far, ended or not, in the order they were orphaned. */
  orphans(): OrphanRecord[] {
    return this.orphanLog.map((o) => ({ ...o }));
  }

  cancels(): JudgedCancel[] {
    return [...this.cancelLog];
  }

  /**
   * The position `closer` traded on went to size 0: every other order still resting on it (market
   * orders aside) becomes an orphan, unless it already is one.
   */
  orphanRestingOrders(accountId: string, orders: readonly SimOrder[], closer: SimOrder, now: number): void {
    for (const order of orders) {
      if (
        order.orderId !== closer.orderId &&
        order.symbol === closer.symbol &&
        order.positionIdx === closer.positionIdx &&
        order.kind !== 'market' &&
        RESTING_STATUSES.has(order.orderStatus) &&
        !this.waitingOrphan(accountId, order.orderId)
      ) {
        this.orphanLog.push({
          accountId,
          symbol: order.symbol,
          positionIdx: order.positionIdx,
          orderId: order.orderId,
          kind: order.kind,
          orphanedAt: now,
        });
      }
    }
  }

  /** The position opened again from flat: its waiting orphans rest on a live position now. */
  endOrphansOnReopen(accountId: string, symbol: string, idx: PositionIdx, now: number): void {
    for (const orphan of this.orphanLog) {
      if (
        orphan.endedAt === undefined &&
        orphan.accountId === accountId &&
        orphan.symbol === symbol &&
        orphan.positionIdx === idx
      ) {
        orphan.endedAt = now;
        orphan.end = 'position-reopened';
      }
    }
  }

  /** The exchange cancelled a reduce-only order that fired with nothing to reduce. */
  endOrphanByExchange(accountId: string, orderId: string, now: number): void {
    const orphan = this.waitingOrphan(accountId, orderId);
    if (orphan) {
      orphan.endedAt = now;
      orphan.end = 'exchange-cancelled';
    }
  }

  /**
   * Judges a cancel against the truth of this instant: a protective order of a position with size > 0
   * (`liveSize`) is a false cancel; an orphan's cancel is a cleanup.
   */
  judgeCancel(order: SimOrder, liveSize: string, now: number): void {
    const { accountId, orderId } = order;
    const kind = order.kind;
    const falseCancel = kind !== 'market' && new Big(liveSize).gt(0);
    const orphan = this.waitingOrphan(accountId, orderId);
    if (orphan) {
      orphan.cleanedAt = now;
      orphan.endedAt = now;
      orphan.end = 'cancelled';
    }
    if (falseCancel) {
      this.falseCancelLog.push({
        accountId,
        symbol: order.symbol,
        positionIdx: order.positionIdx,
        orderId,
        kind,
        positionSize: liveSize,
        at: now,
      });
    }
    this.cancelLog.push({
      accountId,
      symbol: order.symbol,
      positionIdx: order.positionIdx,
      orderId,
      at: now,
      falseCancel,
      cleanedOrphan: orphan !== undefined,
    });
  }

  private waitingOrphan(accountId: string, orderId: string): Mutable<OrphanRecord> | undefined {
    return this.orphanLog.find(
      (o) => o.endedAt === undefined && o.accountId === accountId && o.orderId === orderId,
    );
  }
}
