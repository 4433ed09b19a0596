import type { CapVerdict } from '#core/types.js';

/**
 * The bound on damage: how many orders may be cancelled per account and in total per window.
 * `acquire` takes `slots` from both budgets atomically, or from neither.
 */
export interface CancelCap {
  /**
   * `accountLimit` is the account's own budget when its record overrides the default; the global
   * budget and the window are the same for everyone.
   */
  acquire(accountId: string, slots: number, now: number, accountLimit?: number): Promise<CapVerdict>;
}

/**
 * The window a moment belongs to: every adapter counts the same cancels in the same window, so the
 * per-account and global budgets mean the same thing wherever they are kept.
 */
export function capWindowId(now: number, windowMs: number): string {
  return String(Math.floor(now / windowMs));
}
