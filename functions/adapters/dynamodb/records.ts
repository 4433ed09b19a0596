import * as z from 'zod';
import { formatIssues } from '#contracts/issues.js';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import { boundedIds } from '#core/suspect.js';
import type { SuspectRecord, TrackedPosition } from '#core/types.js';
import type { AccountState } from '#ports/store.js';

/**
 * Domain records as stored. Items are read back through these schemas: the safety logic compares
 * `attempts`, times and sizes, so an item that lost or mistyped a field must fail loudly
 * (`CorruptItemError`), never reach the core as NaN or undefined. `z.object` drops the key attributes.
 */
const positionIdx = z.union([z.literal(0), z.literal(1), z.literal(2)]);
const epochMs = z.number().int().nonnegative();

const protectiveOrderSchema = z.object({
  orderId: z.string(),
  symbol: z.string(),
  positionIdx,
  kind: z.enum(['stop-loss', 'take-profit', 'trailing-stop', 'reduce-only']),
  triggerPrice: z.string().exactOptional(),
  qty: z.string().exactOptional(),
  triggersOn: z.enum(['rise', 'fall']).exactOptional(),
  createdAt: epochMs.exactOptional(),
});

export const trackedPositionSchema = z.object({
  accountId: z.string(),
  symbol: z.string(),
  positionIdx,
  side: z.enum(['long', 'short']),
  size: z.string(),
  lastSeenOpenAt: epochMs,
  lastSeenSnapshotId: z.string(),
  stateUpdatedAt: epochMs,
  stateSequence: z.number().int().exactOptional(),
  protectiveOrders: z.array(protectiveOrderSchema),
}) satisfies z.ZodType<TrackedPosition>;

/**
 * Suspects written before their missing looks were bounded carry every look's time (`missingSeenAt`)
 * and every id: they read as the count, the time of the last and the first and last few ids, so an
 * upgrade leaves no account unreadable.
 */
function withBoundedLooks(item: unknown): unknown {
  if (item === null || typeof item !== 'object') return item;
  const { missingSeenAt, ...rest } = item as Record<string, unknown>;
  if (!Array.isArray(missingSeenAt) || 'missingLooks' in rest) return item;
  const ids: unknown[] = Array.isArray(rest.missingSnapshotIds) ? rest.missingSnapshotIds : [];
  return {
    ...rest,
    missingLooks: missingSeenAt.length,
    lastMissingAt: missingSeenAt.at(-1),
    missingSnapshotIds: ids.reduce<readonly string[]>((kept, id) => boundedIds(kept, String(id)), []),
  };
}

export const suspectRecordSchema = z.preprocess(
  withBoundedLooks,
  z.object({
    accountId: z.string(),
    symbol: z.string(),
    positionIdx,
    position: trackedPositionSchema,
    firstMissingSnapshotId: z.string(),
    firstMissingAt: epochMs,
    attempts: z.number().int().nonnegative(),
    missingLooks: z.number().int().positive(),
    lastMissingAt: epochMs,
    missingSnapshotIds: z.array(z.string()),
    nextAttemptAt: epochMs,
    claimedUntil: epochMs.exactOptional(),
    stuckSince: epochMs.exactOptional(),
    stuckCountFrom: z.object({ attempts: z.number().int().nonnegative(), at: epochMs }).exactOptional(),
  }),
) satisfies z.ZodType<SuspectRecord>;

export const protectionWatchSchema = z.object({
  accountId: z.string(),
  symbol: z.string(),
  positionIdx,
  side: z.enum(['long', 'short']),
  size: z.string(),
  since: epochMs,
  looks: z.number().int().positive(),
  changedAt: epochMs.exactOptional(),
  entryPrice: z.string().exactOptional(),
  coveredShare: z.string(),
  alarmedAt: epochMs.exactOptional(),
  stopPlacedAt: epochMs.exactOptional(),
  placementRefusal: z.string().exactOptional(),
  snapshotIds: z.array(z.string()),
}) satisfies z.ZodType<ProtectionWatch>;

export const protectionIntentSchema = z.object({
  accountId: z.string(),
  symbol: z.string(),
  positionIdx,
  noStopIntended: z.boolean(),
  stopPrice: z.string().exactOptional(),
  updatedAt: epochMs,
}) satisfies z.ZodType<ProtectionIntent>;

export const accountStateSchema = z.object({
  accountId: z.string(),
  consecutiveDistrusted: z.number().int().nonnegative(),
  lastCompleteSnapshotAt: epochMs.exactOptional(),
  firstCheckedAt: epochMs.exactOptional(),
}) satisfies z.ZodType<AccountState>;

/** An item that does not hold the record its key says it does. */
export class CorruptItemError extends Error {
  override readonly name = 'CorruptItemError';
}

/** Parses an item with `schema`, or throws `CorruptItemError` naming the item and every problem. */
export function parseItem<T>(schema: z.ZodType<T>, item: Record<string, unknown>, what: string): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const problems = formatIssues(parsed.error.issues);
  throw new CorruptItemError(`${what} item ${String(item.PK)} / ${String(item.SK)} is corrupt: ${problems}`);
}
