import type { FleetBudget, FleetGuard } from '#ports/fleet.js';

/** The fleet guard in memory, for the simulation and tests: one pause, one budget per window. */
export class MemoryFleetGuard implements FleetGuard {
  private until: number | undefined;
  private readonly used = new Map<number, number>();

  constructor(private readonly budget: FleetBudget = { requests: 0, windowMs: 1_000 }) {}

  async pausedUntil(now: number): Promise<number | undefined> {
    return this.until !== undefined && this.until > now ? this.until : undefined;
  }

  async pause(until: number): Promise<boolean> {
    if (this.until !== undefined && this.until >= until) return false;
    this.until = until;
    return true;
  }

  async admit(requests: number, now: number): Promise<number> {
    const { windowMs } = this.budget;
    if (this.budget.requests <= 0 || requests <= 0) return now;
    const window = Math.floor(now / windowMs);
    const used = this.used.get(window) ?? 0;
    // More than a whole window's budget is admitted alone in an untouched window, or it never would be.
    const fits = requests > this.budget.requests ? used === 0 : used + requests <= this.budget.requests;
    if (!fits) return (window + 1) * windowMs;
    this.used.set(window, used + requests);
    // Old windows are never asked about again.
    if (this.used.size > 64) for (const w of this.used.keys()) if (w < window) this.used.delete(w);
    return now;
  }
}
