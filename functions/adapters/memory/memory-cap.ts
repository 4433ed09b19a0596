import type { CapVerdict } from '#core/types.js';
import { type CancelCap, capWindowId } from '#ports/cap.js';

/** The cancel cap in memory: both budgets or neither, like the DynamoDB transaction. */
export class MemoryCap implements CancelCap {
  private readonly used = new Map<string, number>();

  constructor(private readonly limits: { perAccount: number; global: number; windowMs: number }) {}

  async acquire(accountId: string, slots: number, now: number, accountLimit?: number): Promise<CapVerdict> {
    const perAccount = accountLimit ?? this.limits.perAccount;
    const windowId = capWindowId(now, this.limits.windowMs);
    const accountKey = `${windowId}#${accountId}`;
    const globalKey = `${windowId}#*`;
    if ((this.used.get(accountKey) ?? 0) + slots > perAccount) {
      return { status: 'refused', windowId, scope: 'account', limit: perAccount };
    }
    if ((this.used.get(globalKey) ?? 0) + slots > this.limits.global) {
      return { status: 'refused', windowId, scope: 'global', limit: this.limits.global };
    }
    this.used.set(accountKey, (this.used.get(accountKey) ?? 0) + slots);
    this.used.set(globalKey, (this.used.get(globalKey) ?? 0) + slots);
    return { status: 'granted', windowId, slots };
  }
}
