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

/**
 * Sent by the trading bot when it opens a position, so that stopguard tracks it even if no list ever
 * shows it before it closes (a short-lived position, a venue that keeps dropping it).
 */
export const registerMessageSchema = z.strictObject({
  type: z.literal('register'),
  accountId,
  position: z.strictObject({
    symbol: z.string().min(1).max(64),
    positionIdx: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    side: z.enum(['long', 'short']),
    size: decimal,
    /**
     * Exchange time of the fill that produced this state. The bot's word is ordered by this time
     * alone: a sequence it sent could outrank every real state, and only the exchange's lists carry one.
     */
    updatedAt: z.number().int().positive(),
    /**
     * The position has no stop-loss by design (a hedge leg, a grid): the protection audit leaves it
     * alone, and replace mode never places one. Stays until the bot registers the position again.
     */
    noStopIntended: z.boolean().optional(),
    /** The stop price replace mode uses for it, instead of the account's distance rule. */
    stopPrice: decimal.optional(),
  }),
});

/** The work queue carries what stopguard sends itself: the scheduler's checks and the worker's confirms. */
export const workMessageSchema = z.discriminatedUnion('type', [checkMessageSchema, confirmMessageSchema]);

/** The bot's ingress carries only what the bot may say. */
export const ingressMessageSchema = z.discriminatedUnion('type', [registerMessageSchema]);

export type CheckMessage = z.infer<typeof checkMessageSchema>;
export type ConfirmMessage = z.infer<typeof confirmMessageSchema>;
export type RegisterMessage = z.infer<typeof registerMessageSchema>;
export type WorkMessage = z.infer<typeof workMessageSchema>;
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
    super(`malformed work message: ${reason}`);
  }
}

/** Parses a work queue body, or throws `MalformedMessageError` saying exactly what is wrong. */
export function parseWorkMessage(body: string): WorkMessage {
  return parseWith(workMessageSchema, body);
}

/** Parses a body from the bot's ingress queue; anything but a registration is malformed there. */
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
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new MalformedMessageError(formatIssues(parsed.error.issues));
  }
  return parsed.data;
}
