import type { CancelRecord, Decision } from '#core/decision.js';

export type { CancelRecord };

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
