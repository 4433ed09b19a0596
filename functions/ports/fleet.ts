/**
 * What every account's exchange access shares. Bybit limits requests per address as well as per
 * account (600 per 5 s; beyond it HTTP 403 and a ban of at least 10 minutes, which requests during it
 * prolong): a fleet that sends from one address must stay under that limit, and must all stop when it
 * is banned, or it never gets out.
 */
export interface FleetGuard {
  /** Until when every account is paused (venue time, ms), or undefined when it is not. */
  pausedUntil(now: number): Promise<number | undefined>;
  /**
   * The venue refused the fleet's address until `until`: everyone pauses until then. True when this
   * call set or extended the pause, so that one caller, not every one, raises the alarm.
   */
  pause(until: number): Promise<boolean>;
  /**
   * Takes `requests` from the fleet's budget for the current window: returns `now` when they fit,
   * otherwise the start of a later window to come back at (nothing is taken then). Without a budget
   * (the default: Lambda does not send from one address) it always returns `now`.
   */
  admit(requests: number, now: number): Promise<number>;
}

/** How a fleet guard counts: `requests` per window of `windowMs`, starting at multiples of it. */
export interface FleetBudget {
  readonly requests: number;
  readonly windowMs: number;
}

/**
 * The budget for `requestsPer5s` (the `fleetRequestsPer5s` setting), counted in one-second slices of a
 * fifth each: the exchange counts over any 5 s, and five fixed slices can never put more than 6/5 of
 * the budget into one such span (two fixed 5 s windows could put in twice the budget, back to back).
 * So a budget of 5/6 of the address's limit keeps it: 500 for Bybit's 600.
 */
export function fleetBudgetOf(requestsPer5s: number): FleetBudget {
  return { requests: requestsPer5s / 5, windowMs: 1_000 };
}
