import * as z from 'zod';
import type { SuspectRecord } from '#core/types.js';
import { accountId } from './account-record.js';
import { formatIssues } from './issues.js';

/**
 * The queues' messages. Every body is validated; anything else is a `MalformedMessageError` and ends
 * in a dead-letter queue with its reason, never silently dropped.
 */

/**
 * Work messages name an account and never describe it: the worker reads the record (keys, host,
 * settings) from the table, so whoever can send to a queue cannot choose another account's keys or
 * the host they are sent to.
 */
export const checkMessageSchema = z.strictObject({
  type: z.literal('check'),
  accountId,
  /** Cadence slot (epoch ms / cadence): a scheduler run that repeats sends the same slots. */
  slot: z.number().int().nonnegative(),
});

export const confirmMessageSchema = z.strictObject({
  type: z.literal('confirm'),
  accountId,
  symbol: z.string().min(1).max(64),
  positionIdx: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  /** The suspect's attempt counter when this was sent: a duplicate delivery finds it moved on. */
  attempt: z.number().int().nonnegative(),
});

const decimal = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal quantity such as "0.5"');
const symbol = z.string().min(1).max(64).describe('The instrument, as the exchange names it ("BTCUSDT")');
const positionIdx = z
  .union([z.literal(0), z.literal(1), z.literal(2)])
  .describe('0: one-way mode; 1: the long leg, 2: the short leg in hedge mode (Bybit positionIdx)');
const fillTime = z
  .number()
  .int()
  .positive()
  .describe('Exchange time (epoch ms) of the fill that produced this state; at most 30 s ahead of now');

/**
 * Sent by the trading bot when it opens a position, so that stopguard tracks it even if no list ever
 * shows it before it closes (a short-lived position, a venue that keeps dropping it).
 */
export const registerMessageSchema = z.strictObject({
  type: z.literal('register'),
  accountId,
  position: z.strictObject({
    symbol: symbol,
    positionIdx,
    side: z.enum(['long', 'short']),
    size: decimal.describe('The position size after the fill, as the exchange writes it ("0.5")'),
    /**
     * Exchange time of the fill that produced this state. The bot's word is ordered by this time
     * alone: a sequence it sent could outrank every real state, and only the exchange's lists carry one.
     */
    updatedAt: fillTime,
    /**
     * The position has no stop-loss by design (a hedge leg, a grid): the protection audit leaves it
     * alone, and replace mode never places one. Kept until a later registration says otherwise, an
     * unregister withdraws it, or the position's close is proven.
     */
    noStopIntended: z
      .boolean()
      .describe('true: no stop-loss by design (a hedge leg, a grid): never alarmed, never given a stop')
      .optional(),
    /** The stop price replace mode uses for it, instead of the account's distance rule. */
    stopPrice: decimal
      .describe("The trigger price replace mode uses instead of the account's distance rule")
      .optional(),
  }),
});

/**
 * Sent by the bot to withdraw what it said of a position's stop (`noStopIntended`, `stopPrice`): the
 * protection audit then judges it like any other. It is no word on the position itself: stopguard
 * keeps reconciling what the exchange shows, since a bot's say-so is never evidence of a close.
 */
export const unregisterMessageSchema = z.strictObject({
  type: z.literal('unregister'),
  accountId,
  position: z.strictObject({
    symbol,
    positionIdx,
    /** Exchange time of the bot's decision: an older registration arriving later does not undo it. */
    updatedAt: fillTime,
  }),
});

/** Fixed: changing it would move accounts between buckets already stored in the table. */
export const SCHEDULE_BUCKETS = 64;

/** Shard counts a fleet may be scheduled in: powers of two up to the bucket count. */
export const SHARD_COUNTS = [1, 2, 4, 8, 16, 32, 64] as const;
export type ShardCount = (typeof SHARD_COUNTS)[number];

/**
 * One shard of one minute, from the scheduler's fan-out to a shard run (the scheduler's own queue).
 * It names a shard, never accounts: the run lists them from the table.
 */
export const scheduleShardMessageSchema = z
  .strictObject({
    type: z.literal('schedule-shard'),
    /** Calendar minute: epoch ms / 60,000. */
    minute: z.number().int().nonnegative(),
    shard: z.number().int().nonnegative(),
    shards: z.union(SHARD_COUNTS.map((n) => z.literal(n))),
  })
  .refine((m) => m.shard < m.shards, { message: 'shard must be below shards', path: ['shard'] });

/** The work queue carries what stopguard sends itself: the scheduler's checks and the worker's confirms. */
export const workMessageSchema = z.discriminatedUnion('type', [checkMessageSchema, confirmMessageSchema]);

/** The bot's ingress carries only what the bot may say. */
export const ingressMessageSchema = z.discriminatedUnion('type', [
  registerMessageSchema,
  unregisterMessageSchema,
]);

export type CheckMessage = z.infer<typeof checkMessageSchema>;
export type ConfirmMessage = z.infer<typeof confirmMessageSchema>;
export type RegisterMessage = z.infer<typeof registerMessageSchema>;
export type UnregisterMessage = z.infer<typeof unregisterMessageSchema>;
export type WorkMessage = z.infer<typeof workMessageSchema>;
export type ScheduleShardMessage = z.infer<typeof scheduleShardMessageSchema>;
export type IngressMessage = z.infer<typeof ingressMessageSchema>;

/** The delayed second look at a suspect, for the attempt it is at. */
export function confirmMessageFor(suspect: SuspectRecord): ConfirmMessage {
  return {
    type: 'confirm',
    accountId: suspect.accountId,
    symbol: suspect.symbol,
    positionIdx: suspect.positionIdx,
    attempt: suspect.attempts,
  };
}

export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
  constructor(readonly reason: string) {
    super(`malformed message: ${reason}`);
  }
}

/** Parses a work queue body, or throws `MalformedMessageError` saying exactly what is wrong. */
export function parseWorkMessage(body: string): WorkMessage {
  return parseWith(workMessageSchema, body);
}

/** Parses a body from the scheduler's queue: shard-minutes only. */
export function parseScheduleShardMessage(body: string): ScheduleShardMessage {
  return parseWith(scheduleShardMessageSchema, body);
}

/** Parses a body from the bot's ingress queue; anything but the bot's own messages is malformed there. */
export function parseIngressMessage(body: string): IngressMessage {
  return parseWith(ingressMessageSchema, body);
}

function parseWith<T>(schema: z.ZodType<T>, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedMessageError('body is not JSON');
  }
  return checkedMessage(schema, json);
}

/** `value` as `schema` reads it, or `MalformedMessageError` saying exactly what is wrong. */
export function checkedMessage<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new MalformedMessageError(formatIssues(parsed.error.issues));
  }
  return parsed.data;
}
