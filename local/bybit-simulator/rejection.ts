/** How the simulated exchange refuses a request: a Bybit retCode and message. */

import Big from 'big.js';

/** A request the exchange refuses, with the Bybit retCode it answers. */
export class SimRejection extends Error {
  constructor(
    readonly retCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimRejection';
  }
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** `value` if it is a positive decimal string; otherwise a refusal with Bybit's params error (10001). */
export function positiveDecimal(value: unknown, name: string): string {
  if (typeof value !== 'string' || !DECIMAL.test(value) || !new Big(value).gt(0)) {
    throw new SimRejection(
      10001,
      `params error: ${name} must be a positive decimal string, got ${String(value)}`,
    );
  }
  return value;
}
