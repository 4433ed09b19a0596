import type { AuditEntry, AuditLog } from '#ports/audit.js';

/** The audit trail in memory: every entry in order, or none when told not to keep them (long simulations). */
export class MemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];

  constructor(private readonly keep = true) {}

  async record(entries: readonly AuditEntry[]): Promise<void> {
    if (this.keep) this.entries.push(...entries);
  }
}
