import type { Decision } from '#core/decision.js';

/** What an order cancel request came back with, for the audit trail. */
export interface CancelRecord {
  readonly orderId: string;
  readonly status: 'cancelled' | 'already-gone' | 'failed' | 'skipped-shadow';
  readonly detail?: string;
}

/** One decision, durably: who, what, why, on what evidence, and what was done. */
export interface AuditEntry {
  readonly accountId: string;
  readonly at: number;
  readonly phase: 'check' | 'confirm';
  readonly decision: Decision;
  readonly shadow: boolean;
  readonly cancels?: readonly CancelRecord[];
}

export interface AuditLog {
  record(entries: readonly AuditEntry[]): Promise<void>;
}
