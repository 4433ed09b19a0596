import type { ClaimRenewal } from '#core/decision.js';
import { positionIdOf } from '#core/keys.js';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import { isNewerState, type StateVersion } from '#core/state-order.js';
import type { PositionKey, SuspectRecord, TrackedPosition } from '#core/types.js';
import type { AccountState, AccountView, ReconciliationStore } from '#ports/store.js';

/**
 * The store in process memory, with the same conditional semantics as the DynamoDB adapter. Used by
 * the deterministic simulation and by unit tests; records are immutable, so sharing them is safe.
 */
export class MemoryStore implements ReconciliationStore {
  private readonly tracked = new Map<string, Map<string, TrackedPosition>>();
  private readonly suspects = new Map<string, Map<string, SuspectRecord>>();
  private readonly states = new Map<string, AccountState>();
  private readonly watches = new Map<string, Map<string, ProtectionWatch>>();
  private readonly intents = new Map<string, Map<string, ProtectionIntent>>();
  /** Operation counts, for cost figures (one load is one DynamoDB Query). */
  readonly ops = { reads: 0, writes: 0 };

  async loadAccountView(accountId: string): Promise<AccountView> {
    this.ops.reads++;
    return {
      tracked: [...(this.tracked.get(accountId)?.values() ?? [])],
      suspects: [...(this.suspects.get(accountId)?.values() ?? [])],
      state: this.states.get(accountId) ?? { accountId, consecutiveDistrusted: 0 },
      watches: [...(this.watches.get(accountId)?.values() ?? [])],
      intents: [...(this.intents.get(accountId)?.values() ?? [])],
    };
  }

  /** The account's stored watches, as they stand, for a simulation's ground truth: no operation counted. */
  watchesOf(accountId: string): readonly ProtectionWatch[] {
    return [...(this.watches.get(accountId)?.values() ?? [])];
  }

  async saveWatches(saves: readonly ProtectionWatch[], ends: readonly PositionKey[]): Promise<void> {
    for (const watch of saves) {
      this.ops.writes++;
      bucket(this.watches, watch.accountId).set(positionIdOf(watch), watch);
    }
    for (const key of ends) {
      this.ops.writes++;
      this.watches.get(key.accountId)?.delete(positionIdOf(key));
    }
  }

  async markWatch(next: ProtectionWatch, current: ProtectionWatch): Promise<boolean> {
    this.ops.writes++;
    const watches = bucket(this.watches, next.accountId);
    const stored = watches.get(positionIdOf(next));
    if (stored === undefined || !sameWatch(stored, current)) return false;
    watches.set(positionIdOf(next), next);
    return true;
  }

  async removeIntent(key: PositionKey, notNewerThan: number): Promise<boolean> {
    this.ops.writes++;
    const intents = this.intents.get(key.accountId);
    const known = intents?.get(positionIdOf(key));
    if (known === undefined || known.updatedAt > notNewerThan) return false;
    intents?.delete(positionIdOf(key));
    return true;
  }

  async recordIntent(intent: ProtectionIntent): Promise<boolean> {
    this.ops.writes++;
    const intents = bucket(this.intents, intent.accountId);
    const known = intents.get(positionIdOf(intent));
    if (known !== undefined && known.updatedAt > intent.updatedAt) return false;
    intents.set(positionIdOf(intent), intent);
    return true;
  }

  async upsertTracked(positions: readonly TrackedPosition[]): Promise<void> {
    for (const p of positions) {
      this.ops.writes++;
      bucket(this.tracked, p.accountId).set(positionIdOf(p), p);
    }
  }

  async removeTracked(key: PositionKey, closed?: StateVersion): Promise<boolean> {
    this.ops.writes++;
    const ledger = this.tracked.get(key.accountId);
    const known = ledger?.get(positionIdOf(key));
    if (known !== undefined && closed !== undefined && isNewerState(known, closed)) return false;
    ledger?.delete(positionIdOf(key));
    return true;
  }

  async registerTracked(position: TrackedPosition): Promise<boolean> {
    this.ops.writes++;
    const ledger = bucket(this.tracked, position.accountId);
    const known = ledger.get(positionIdOf(position));
    if (known !== undefined && !isNewerState(position, known)) return false;
    ledger.set(positionIdOf(position), { ...position, protectiveOrders: known?.protectiveOrders ?? [] });
    return true;
  }

  async saveAccountState(state: AccountState): Promise<void> {
    this.ops.writes++;
    this.states.set(state.accountId, state);
  }

  async createSuspect(suspect: SuspectRecord): Promise<boolean> {
    this.ops.writes++;
    const suspects = bucket(this.suspects, suspect.accountId);
    if (suspects.has(positionIdOf(suspect))) return false;
    suspects.set(positionIdOf(suspect), suspect);
    return true;
  }

  async getSuspect(key: PositionKey): Promise<SuspectRecord | undefined> {
    this.ops.reads++;
    return this.suspects.get(key.accountId)?.get(positionIdOf(key));
  }

  async claimSuspect(
    key: PositionKey,
    expectedAttempts: number,
    now: number,
    leaseUntil: number,
  ): Promise<SuspectRecord | undefined> {
    this.ops.writes++;
    const current = this.suspects.get(key.accountId)?.get(positionIdOf(key));
    if (current === undefined) return undefined;
    const unclaimed = current.claimedUntil === undefined || current.claimedUntil < now;
    const fresh = current.attempts === expectedAttempts && unclaimed;
    const retake =
      current.attempts === expectedAttempts + 1 &&
      current.claimedUntil !== undefined &&
      current.claimedUntil < now;
    if (!fresh && !retake) return undefined;
    const claimed = {
      ...current,
      attempts: expectedAttempts + 1,
      nextAttemptAt: leaseUntil,
      claimedUntil: leaseUntil,
    };
    bucket(this.suspects, key.accountId).set(positionIdOf(key), claimed);
    return claimed;
  }

  async updateSuspect(next: SuspectRecord, current: SuspectRecord): Promise<boolean> {
    this.ops.writes++;
    if (!this.holds(current)) return false;
    bucket(this.suspects, next.accountId).set(positionIdOf(next), next);
    return true;
  }

  async renewClaimBeforeCancel(
    next: SuspectRecord,
    current: SuspectRecord,
    proven: StateVersion,
  ): Promise<ClaimRenewal> {
    this.ops.writes++;
    const known = this.tracked.get(current.accountId)?.get(positionIdOf(current));
    if (!this.holds(current)) return 'claim-lost';
    if (known !== undefined && isNewerState(known, proven)) return 'newer-state-registered';
    bucket(this.suspects, next.accountId).set(positionIdOf(next), next);
    return 'held';
  }

  async endSuspectOlderThan(key: PositionKey, newer: StateVersion): Promise<boolean> {
    this.ops.writes++;
    const stored = this.suspects.get(key.accountId)?.get(positionIdOf(key));
    if (stored === undefined || !isNewerState(newer, stored.position)) return false;
    this.suspects.get(key.accountId)?.delete(positionIdOf(key));
    return true;
  }

  /** Whether the stored suspect is still exactly `current` (same attempt, same claim). */
  private holds(current: SuspectRecord): boolean {
    const stored = this.suspects.get(current.accountId)?.get(positionIdOf(current));
    return (
      stored !== undefined &&
      stored.attempts === current.attempts &&
      stored.claimedUntil === current.claimedUntil
    );
  }

  async deleteSuspect(key: PositionKey, held?: SuspectRecord): Promise<boolean> {
    this.ops.writes++;
    if (held !== undefined && !this.holds(held)) return false;
    this.suspects.get(key.accountId)?.delete(positionIdOf(key));
    return true;
  }
}

function bucket<V>(map: Map<string, Map<string, V>>, accountId: string): Map<string, V> {
  let inner = map.get(accountId);
  if (inner === undefined) {
    inner = new Map();
    map.set(accountId, inner);
  }
  return inner;
}

/** The fields a conditional watch write compares: what a concurrent look would have changed. */
function sameWatch(a: ProtectionWatch, b: ProtectionWatch): boolean {
  return a.since === b.since && a.alarmedAt === b.alarmedAt && a.stopPlacedAt === b.stopPlacedAt;
}
