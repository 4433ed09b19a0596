import type { CheckMessage, ConfirmMessage, WorkMessage } from '#contracts/messages.js';
import type { Clock } from '#ports/clock.js';
import type { WorkQueue } from '#ports/queue.js';

/** SQS's longest per-message delay (`MAX_DELAY_SECONDS` of the SQS adapter). */
const MAX_DELAY_MS = 900_000;

export interface QueuedMessage {
  readonly message: WorkMessage;
  readonly deliverAt: number;
  readonly seq: number;
}

/**
 * A delay queue on a (virtual) clock: messages become deliverable at send time + delay. Delivery
 * order among due messages is by due time, then send order; the simulation perturbs it on purpose.
 */
export class MemoryQueue implements WorkQueue {
  private pending: QueuedMessage[] = [];
  private seq = 0;
  sent = 0;

  constructor(private readonly clock: Clock) {}

  async sendChecks(
    checks: readonly { readonly message: CheckMessage; readonly delayMs: number }[],
  ): Promise<void> {
    for (const c of checks) this.push(c.message, c.delayMs);
  }

  async sendConfirm(message: ConfirmMessage, delayMs: number): Promise<void> {
    this.push(message, delayMs);
  }

  push(message: WorkMessage, delayMs: number): void {
    this.sent++;
    // At most 15 minutes, as on SQS (a longer wait comes back early): the simulation sees the early
    // returns the deployed queue produces.
    const deliverAt = this.clock.now() + Math.min(Math.max(0, delayMs), MAX_DELAY_MS);
    this.pending.push({ message, deliverAt, seq: this.seq++ });
  }

  /** Removes and returns every message due by `now`. */
  takeDue(now: number): QueuedMessage[] {
    const due = this.pending.filter((m) => m.deliverAt <= now);
    if (due.length === 0) return due;
    this.pending = this.pending.filter((m) => m.deliverAt > now);
    return due.sort((a, b) => a.deliverAt - b.deliverAt || a.seq - b.seq);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Earliest due time of a pending message, if any. */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const m of this.pending)
      if (earliest === undefined || m.deliverAt < earliest) earliest = m.deliverAt;
    return earliest;
  }
}
