import Big from 'big.js';

/**
 * Decimal arithmetic on the exchange's quantity strings. Binary floats would make "0.3 closed of 0.3"
 * read as 0.29999999999999993 remaining: a live-looking position that never resolves.
 */
export function isPositive(quantity: string): boolean {
  return new Big(quantity).gt(0);
}

export function sum(quantities: readonly string[]): string {
  return quantities.reduce((total, q) => total.plus(q), new Big(0)).toString();
}

/** `size - closed + opened`: what would remain of a position after the given fills. */
export function remainingAfter(size: string, closed: readonly string[], opened: readonly string[]): string {
  return new Big(size).minus(sum(closed)).plus(sum(opened)).toString();
}

export function isValidQuantity(value: string): boolean {
  return /^\d+(\.\d+)?$/.test(value);
}
