/** The simulated venue's ground truth, which every strategy is judged by: false cancels and orphans. */

import type { PositionIdx } from '#core/types.js';

/** A cancel that hit a protective order while its position was open: the incident's harm. */
export interface FalseCancel {
  readonly accountId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orderId: string;
  readonly at: number;
}

/** A protective order left resting after its position closed; `cleanedAt` is set by its cancel. */
export interface Orphan {
  readonly accountId: string;
  readonly orderId: string;
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly orphanedAt: number;
  cleanedAt?: number;
  /**
   * The position was opened again before the orphan was cleaned: the old order now rests on a live
   * position, and cancelling it would be a false cancel. Counted apart from "never cleaned".
   */
  reopenedAt?: number;
}
