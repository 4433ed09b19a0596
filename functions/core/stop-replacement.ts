import Big from 'big.js';
import type { StopOrderRequest, StopPlacement } from './decision.js';
import type { ProtectionIntent, ProtectionWatch } from './protection.js';
import type { ObservedPosition } from './types.js';

/**
 * Replace mode's rule for a stop on an unprotected position. Pure: the orchestration asks, places (or
 * not) and audits. The stop is a conditional order, not Bybit's position-level "set trading stop":
 * an order can carry an idempotency key (`orderLinkId`) so a retried request is refused as a duplicate
 * instead of placing a second stop, it adds to whatever partial stops rest without overwriting the bot's
 * own position-level settings, and it is a separate, attributable order the bot can cancel by id.
 */

/** The prefix of every order stopguard places: its own orders are recognisable in any listing. */
export const STOPGUARD_LINK_PREFIX = 'sg-';

/** The account's stop rule: a distance from the entry price, as a fraction ("0.05" = 5 %). */
export interface StopRule {
  readonly stopDistance?: string;
}

export type StopPlan =
  | { readonly status: 'place'; readonly request: StopOrderRequest }
  | {
      readonly status: 'refuse';
      readonly reason: Extract<StopPlacement['reason'], 'would-trigger-at-once' | 'no-stop-rule'>;
      readonly detail: string;
    };

/**
 * The stop to place: at the price the bot registered, else `stopDistance` from the entry price, for
 * the part of the size no stop covers. Refused when neither is known, or when the trigger is already
 * crossed by the mark price (it would fire at once: a market close nobody asked for).
 */
export function planReplacementStop(
  watch: ProtectionWatch,
  position: ObservedPosition,
  intent: ProtectionIntent | undefined,
  rule: StopRule,
  /** The size the resting stops already close (this look's), as the exchange writes quantities. */
  coveredQty = '0',
): StopPlan {
  const long = position.side === 'long';
  const entry = position.protection?.entryPrice;
  const mark = position.protection?.markPrice;
  const decimals = Math.max(decimalsOf(mark), decimalsOf(entry));
  let trigger: Big | undefined;
  if (intent?.stopPrice !== undefined) trigger = new Big(intent.stopPrice);
  else if (rule.stopDistance !== undefined && isPositive(entry)) {
    const factor = long ? new Big(1).minus(rule.stopDistance) : new Big(1).plus(rule.stopDistance);
    // Rounded away from the market, to the price's own precision (the venue's tick).
    trigger = new Big(entry as string).times(factor).round(decimals, long ? Big.roundDown : Big.roundUp);
  }
  if (trigger === undefined || trigger.lte(0)) {
    return {
      status: 'refuse',
      reason: 'no-stop-rule',
      detail: 'no stop price registered by the bot and no stop distance (or entry price) to compute one',
    };
  }
  if (!isPositive(mark)) {
    return {
      status: 'refuse',
      reason: 'would-trigger-at-once',
      detail: 'no mark price to check the trigger against',
    };
  }
  const crossed = long ? trigger.gte(mark as string) : trigger.lte(mark as string);
  if (crossed) {
    return {
      status: 'refuse',
      reason: 'would-trigger-at-once',
      detail: `a stop at ${trigger.toString()} is already crossed by the mark price ${mark}`,
    };
  }
  // Exact: the size and the stops' sizes are multiples of the instrument's lot, so their difference is.
  const size = new Big(position.size);
  const uncovered = size.minus(coveredQty);
  if (uncovered.lte(0)) {
    return { status: 'refuse', reason: 'no-stop-rule', detail: 'the resting stops already cover the size' };
  }
  return {
    status: 'place',
    request: {
      symbol: position.symbol,
      positionIdx: position.positionIdx,
      positionSide: position.side,
      qty: (uncovered.lte(size) ? uncovered : size).toString(),
      triggerPrice: trigger.toString(),
      orderLinkId: linkIdOf(watch),
    },
  };
}

/**
 * One id per position and episode: every attempt for the same episode sends the same id, so the venue
 * refuses a second one. At most 36 characters (Bybit's limit).
 */
export function linkIdOf(watch: Pick<ProtectionWatch, 'symbol' | 'positionIdx' | 'since'>): string {
  const tail = `${watch.positionIdx}${watch.since.toString(36)}`;
  const room = 36 - STOPGUARD_LINK_PREFIX.length - tail.length - 1;
  return `${STOPGUARD_LINK_PREFIX}${watch.symbol.slice(0, room)}-${tail}`;
}

function isPositive(price: string | undefined): boolean {
  return price !== undefined && price !== '' && new Big(price).gt(0);
}

function decimalsOf(value: string | undefined): number {
  return value === undefined ? 0 : (value.split('.')[1]?.length ?? 0);
}
