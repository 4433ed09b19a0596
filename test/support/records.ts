import type { ProtectiveOrder, SuspectRecord, TrackedPosition } from '#core/types.js';
import type { AccountRecord } from '#ports/accounts.js';

/**
 * The start of the current hour. Not a fixed date: DynamoDB Local deletes items whose TTL attribute
 * (`expiresAt`, derived from these times) is behind the wall clock, as DynamoDB does. With a fixed
 * date months back, suspects and cap counters written by a test vanished while it ran (a claim found no
 * suspect, a racing cap granted 4 of 3 after its counter was swept), which looked like store bugs.
 */
export const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000;

export function order(overrides: Partial<ProtectiveOrder> = {}): ProtectiveOrder {
  return {
    orderId: 'sl-1',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    kind: 'stop-loss',
    triggerPrice: '90000.5',
    createdAt: T0 - 60_000,
    ...overrides,
  };
}

/** A tracked position with every optional field set (stateSequence, trigger price, order time). */
export function tracked(overrides: Partial<TrackedPosition> = {}): TrackedPosition {
  return {
    accountId: 'acct-1',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    side: 'long',
    size: '0.001',
    lastSeenOpenAt: T0,
    lastSeenSnapshotId: 'snap-1',
    stateUpdatedAt: T0 - 5_000,
    stateSequence: 123_456_789_012,
    protectiveOrders: [order(), order({ orderId: 'tp-1', kind: 'take-profit', triggerPrice: '99000' })],
    ...overrides,
  };
}

/** A tracked position with no optional field at all. */
export function bareTracked(overrides: Partial<TrackedPosition> = {}): TrackedPosition {
  return {
    accountId: 'acct-1',
    symbol: 'ETHUSDT',
    positionIdx: 2,
    side: 'short',
    size: '12.5',
    lastSeenOpenAt: T0,
    lastSeenSnapshotId: 'snap-1',
    stateUpdatedAt: T0 - 1_000,
    protectiveOrders: [{ orderId: 'ro-1', symbol: 'ETHUSDT', positionIdx: 2, kind: 'reduce-only' }],
    ...overrides,
  };
}

export function suspect(overrides: Partial<SuspectRecord> = {}): SuspectRecord {
  const position = overrides.position ?? tracked();
  return {
    accountId: position.accountId,
    symbol: position.symbol,
    positionIdx: position.positionIdx,
    position,
    firstMissingSnapshotId: 'snap-2',
    firstMissingAt: T0 + 10_000,
    attempts: 0,
    missingLooks: 1,
    lastMissingAt: T0 + 10_000,
    missingSnapshotIds: ['snap-2'],
    nextAttemptAt: T0 + 40_000,
    ...overrides,
  };
}

export function account(accountId: string, overrides: Partial<AccountRecord> = {}): AccountRecord {
  return {
    accountId,
    enabled: true,
    credentialsRef: `stopguard/${accountId}`,
    exchange: { category: 'linear', settleCoins: ['USDT'] },
    ...overrides,
  };
}
