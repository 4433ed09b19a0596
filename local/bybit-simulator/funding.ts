/** Funding settings of the simulated exchange: the default rate, the schedule, how a rate is read. */

/** Bybit's base funding rate per interval (0.01 %). */
export const DEFAULT_FUNDING_RATE = '0.0001';
/** The shortest automatic funding interval accepted (Bybit's shortest is an hour). */
export const MIN_FUNDING_EVERY_MS = 60_000;

/** Automatic funding: settled at every multiple of `everyMs` since the epoch (8 h: 00, 08, 16 UTC). */
export interface FundingSchedule {
  readonly everyMs: number;
  /** Default `DEFAULT_FUNDING_RATE`. */
  readonly rate?: string;
}

const SIGNED_DECIMAL = /^-?\d+(\.\d+)?$/;

/** A funding rate as given (a signed decimal string), or the default. */
export function fundingRate(rate: string | undefined): string {
  if (rate === undefined) return DEFAULT_FUNDING_RATE;
  if (!SIGNED_DECIMAL.test(rate)) throw new Error(`funding rate must be a signed decimal, got ${rate}`);
  return rate;
}
