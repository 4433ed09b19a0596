import type { CapVerdict } from '../core/types.js';

/**
 * The bound on damage: how many orders may be cancelled per account and in total per window.
 * `acquire` takes `slots` from both budgets atomically, or from neither.
 */
export interface CancelCap {
  acquire(accountId: string, slots: number, now: number): Promise<CapVerdict>;
}
