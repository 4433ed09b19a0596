import { describe, expect, it } from 'vitest';
import { isNewerState, type StateVersion } from '#core/state-order.js';
import { withMissingLook } from '#core/suspect.js';
import type { PositionKey, SuspectRecord, TrackedPosition } from '#core/types.js';
import type { ReconciliationStore } from '#ports/store.js';
import { bareTracked, suspect, T0, tracked } from './records.js';

/**
 * What every `ReconciliationStore` must do, run against each implementation with the same assertions:
 * the simulation proves the orchestration on `MemoryStore`, so `DynamoStore` must not differ from it.
 * `makeStore` is called once per test and must return an empty store.
 */
export function storeContract(name: string, makeStore: () => Promise<ReconciliationStore>): void {
  const byKey = (a: PositionKey, b: PositionKey) =>
    `${a.symbol}#${a.positionIdx}`.localeCompare(`${b.symbol}#${b.positionIdx}`);
  const keyOf = (p: PositionKey): PositionKey => ({
    accountId: p.accountId,
    symbol: p.symbol,
    positionIdx: p.positionIdx,
  });

  describe(`${name} honours the store contract`, () => {
    it('loads an unknown account as empty, with a zero state', async () => {
      const store = await makeStore();
      expect(await store.loadAccountView('nobody')).toEqual({
        tracked: [],
        suspects: [],
        state: { accountId: 'nobody', consecutiveDistrusted: 0 },
        watches: [],
        intents: [],
      });
    });

    it('stores the ledger faithfully, per account, with absent optional fields left absent', async () => {
      const store = await makeStore();
      const full = tracked();
      const bare = bareTracked();
      const other = tracked({ accountId: 'acct-2' });
      await store.upsertTracked([full, bare, other]);

      const view = await store.loadAccountView('acct-1');
      expect([...view.tracked].sort(byKey)).toEqual([full, bare].sort(byKey));
      const loadedBare = view.tracked.find((p) => p.symbol === 'ETHUSDT');
      expect(loadedBare).toBeDefined();
      expect(loadedBare).not.toHaveProperty('stateSequence');
      expect(loadedBare?.protectiveOrders[0]).not.toHaveProperty('triggerPrice');
      expect(loadedBare?.protectiveOrders[0]).not.toHaveProperty('createdAt');
      expect((await store.loadAccountView('acct-2')).tracked).toEqual([other]);
    });

    it('replaces a tracked position on upsert, last write winning', async () => {
      const store = await makeStore();
      await store.upsertTracked([tracked()]);
      const grown = tracked({ size: '0.002', lastSeenSnapshotId: 'snap-9', protectiveOrders: [] });
      await store.upsertTracked([tracked({ size: '0.0015' }), grown]);
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([grown]);
    });

    it('removes exactly the tracked position named', async () => {
      const store = await makeStore();
      const hedgeLong = tracked({ positionIdx: 1 });
      const hedgeShort = tracked({ positionIdx: 2, side: 'short' });
      await store.upsertTracked([hedgeLong, hedgeShort]);
      await store.removeTracked(keyOf(hedgeLong));
      await store.removeTracked({ accountId: 'acct-1', symbol: 'NOPEUSDT', positionIdx: 0 });
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([hedgeShort]);
    });

    it('removes a closed position only if no newer state was stored since (a reopen registered meanwhile)', async () => {
      const store = await makeStore();
      const closed = tracked();
      const sequence = closed.stateSequence ?? 0;
      // By sequence when both carry one.
      await store.upsertTracked([
        tracked({ stateSequence: sequence + 1, stateUpdatedAt: closed.stateUpdatedAt }),
      ]);
      expect(await store.removeTracked(keyOf(closed), closed)).toBe(false);
      expect((await store.loadAccountView('acct-1')).tracked).toHaveLength(1);
      // The same state (or an older one) goes.
      await store.upsertTracked([closed]);
      expect(await store.removeTracked(keyOf(closed), closed)).toBe(true);
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([]);
      // Gone already: nothing to keep, nothing fails.
      expect(await store.removeTracked(keyOf(closed), closed)).toBe(true);
      // By time when either lacks a sequence.
      const bare = bareTracked();
      await store.upsertTracked([bareTracked({ stateUpdatedAt: bare.stateUpdatedAt + 1 })]);
      expect(await store.removeTracked(keyOf(bare), bare)).toBe(false);
      expect(await store.removeTracked(keyOf(bare), { stateUpdatedAt: bare.stateUpdatedAt + 1 })).toBe(true);
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([]);
    });

    it('creates a suspect once: a second create is refused and changes nothing', async () => {
      const store = await makeStore();
      const first = suspect();
      expect(await store.createSuspect(first)).toBe(true);
      expect(await store.createSuspect(suspect({ firstMissingSnapshotId: 'snap-other', attempts: 5 }))).toBe(
        false,
      );
      expect(await store.getSuspect(keyOf(first))).toEqual(first);
      expect((await store.loadAccountView('acct-1')).suspects).toEqual([first]);
    });

    it('creates suspects per position: the other leg of a hedge is a different suspect', async () => {
      const store = await makeStore();
      expect(await store.createSuspect(suspect({ position: tracked({ positionIdx: 1 }) }))).toBe(true);
      expect(await store.createSuspect(suspect({ position: tracked({ positionIdx: 2 }) }))).toBe(true);
      expect((await store.loadAccountView('acct-1')).suspects).toHaveLength(2);
    });

    it('gets nothing for an absent suspect', async () => {
      const store = await makeStore();
      expect(
        await store.getSuspect({ accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0 }),
      ).toBeUndefined();
    });

    it('claims a suspect only at the expected attempt, and then exactly once', async () => {
      const store = await makeStore();
      const s = suspect({ attempts: 2 });
      await store.createSuspect(s);
      const now = T0 + 50_000;

      expect(await store.claimSuspect(keyOf(s), 0, now, now + 60_000)).toBeUndefined();
      expect(await store.claimSuspect(keyOf(s), 3, now, now + 60_000)).toBeUndefined();
      // The previous attempt's copy, before the suspect is due: its claim is not one that lapsed.
      expect(await store.claimSuspect(keyOf(s), 1, s.nextAttemptAt - 1, now + 60_000)).toBeUndefined();
      expect(await store.getSuspect(keyOf(s))).toEqual(s);

      const claimed = await store.claimSuspect(keyOf(s), 2, now, now + 60_000);
      expect(claimed).toEqual({ ...s, attempts: 3, nextAttemptAt: now + 60_000, claimedUntil: now + 60_000 });
      expect(await store.getSuspect(keyOf(s))).toEqual(claimed);
      // The duplicate delivery of the same confirmation, while the lease holds.
      expect(await store.claimSuspect(keyOf(s), 2, now + 1_000, now + 61_000)).toBeUndefined();
      expect(await store.getSuspect(keyOf(s))).toEqual(claimed);
    });

    it('lets exactly one of many simultaneous duplicate deliveries claim', async () => {
      const store = await makeStore();
      const s = suspect();
      await store.createSuspect(s);
      const now = T0 + 50_000;
      const results = await Promise.all(
        Array.from({ length: 12 }, () => store.claimSuspect(keyOf(s), 0, now, now + 60_000)),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect((await store.getSuspect(keyOf(s)))?.attempts).toBe(1);
    });

    it('lets a redelivery retake an attempt whose lease ran out, and only then', async () => {
      const store = await makeStore();
      const s = suspect();
      await store.createSuspect(s);
      const now = T0 + 50_000;
      const lease = now + 60_000;
      expect(await store.claimSuspect(keyOf(s), 0, now, lease)).toBeDefined();
      // The worker died; the queue redelivers the same confirmation.
      expect(await store.claimSuspect(keyOf(s), 0, lease - 1, lease + 60_000)).toBeUndefined();
      expect(await store.claimSuspect(keyOf(s), 0, lease, lease + 60_000)).toBeUndefined();
      const retaken = await store.claimSuspect(keyOf(s), 0, lease + 1, lease + 60_001);
      expect(retaken).toEqual({
        ...s,
        attempts: 1,
        nextAttemptAt: lease + 60_001,
        claimedUntil: lease + 60_001,
      });
      // The retake holds its own lease against yet another copy.
      expect(await store.claimSuspect(keyOf(s), 0, lease + 2, lease + 60_002)).toBeUndefined();
    });

    it('does not let a late duplicate retake an attempt that finished (claim released)', async () => {
      const store = await makeStore();
      const s = suspect();
      await store.createSuspect(s);
      const now = T0 + 50_000;
      const claimed = await store.claimSuspect(keyOf(s), 0, now, now + 60_000);
      if (claimed === undefined) throw new Error('expected the first claim to succeed');
      // The attempt ends undecided: claim released, next look due in 5 s.
      const { claimedUntil: _released, ...finished } = claimed;
      const next: SuspectRecord = { ...finished, nextAttemptAt: now + 5_000 };
      expect(await store.updateSuspect(next, claimed)).toBe(true);
      // Long after, the first message is delivered again: attempts = expected + 1 but nothing lapsed.
      expect(await store.claimSuspect(keyOf(s), 0, now + 600_000, now + 660_000)).toBeUndefined();
      // The follow-up confirmation (attempt 1) does claim it.
      expect(await store.claimSuspect(keyOf(s), 1, now + 6_000, now + 66_000)).toMatchObject({
        attempts: 2,
        claimedUntil: now + 66_000,
      });
    });

    it('refuses an update from a claimer whose lease was retaken, keeping the newer state', async () => {
      const store = await makeStore();
      const s = suspect();
      await store.createSuspect(s);
      const now = T0 + 50_000;
      const stale = await store.claimSuspect(keyOf(s), 0, now, now + 60_000);
      const retaken = await store.claimSuspect(keyOf(s), 0, now + 60_001, now + 120_000);
      if (stale === undefined || retaken === undefined) throw new Error('expected both claims');
      const { claimedUntil: _a, ...staleNext } = stale;
      expect(await store.updateSuspect({ ...staleNext, nextAttemptAt: now + 70_000 }, stale)).toBe(false);
      expect(await store.getSuspect(keyOf(s))).toEqual(retaken);
      const { claimedUntil: _b, ...next } = retaken;
      expect(await store.updateSuspect({ ...next, nextAttemptAt: now + 130_000 }, retaken)).toBe(true);
      expect(await store.getSuspect(keyOf(s))).toEqual({ ...next, nextAttemptAt: now + 130_000 });
      // Nothing to update once it is gone.
      await store.deleteSuspect(keyOf(s));
      expect(await store.updateSuspect(next, next)).toBe(false);
      expect(await store.getSuspect(keyOf(s))).toBeUndefined();
    });

    it('registers a position only when its state is newer, keeping known protective orders', async () => {
      const store = await makeStore();
      const known = tracked({ stateUpdatedAt: T0, stateSequence: 10 });
      await store.upsertTracked([known]);
      // Older by sequence: refused, whatever its time says.
      expect(
        await store.registerTracked(
          tracked({ stateUpdatedAt: T0 + 5, stateSequence: 9, protectiveOrders: [] }),
        ),
      ).toBe(false);
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([known]);
      // Newer by sequence: stored, the orders we had observed kept.
      const newer = tracked({ size: '0.5', stateUpdatedAt: T0 + 5, stateSequence: 11, protectiveOrders: [] });
      expect(await store.registerTracked(newer)).toBe(true);
      expect((await store.loadAccountView('acct-1')).tracked).toEqual([
        { ...newer, protectiveOrders: known.protectiveOrders },
      ]);
      // Without a sequence, by time; and the replaced state carries no stale sequence.
      const { stateSequence: _seq, ...unsequenced } = tracked({
        size: '0.7',
        stateUpdatedAt: T0 + 4,
        protectiveOrders: [],
      });
      expect(await store.registerTracked(unsequenced)).toBe(false);
      const later = { ...unsequenced, stateUpdatedAt: T0 + 6 };
      expect(await store.registerTracked(later)).toBe(true);
      const loaded = (await store.loadAccountView('acct-1')).tracked;
      expect(loaded).toEqual([{ ...later, protectiveOrders: known.protectiveOrders }]);
      expect(loaded[0]).not.toHaveProperty('stateSequence');
      // A position never seen before is stored with no orders.
      const fresh = tracked({ symbol: 'SOLUSDT', protectiveOrders: [] });
      expect(await store.registerTracked(fresh)).toBe(true);
      expect((await store.loadAccountView('acct-1')).tracked).toContainEqual(fresh);
    });

    it('renews a claim before cancelling only while it is held and the ledger holds no newer state', async () => {
      const store = await makeStore();
      const position = tracked();
      const sequence = position.stateSequence ?? 0;
      await store.upsertTracked([position]);
      await store.createSuspect(suspect({ position }));
      const claimed = await store.claimSuspect(keyOf(position), 0, T0 + 50_000, T0 + 110_000);
      if (claimed === undefined) throw new Error('claim failed');
      const renewed = { ...claimed, claimedUntil: T0 + 170_000 };

      // The bot registered a reopen: refused, and the suspect is left exactly as it was.
      const reopened = tracked({ stateSequence: sequence + 1, stateUpdatedAt: position.stateUpdatedAt + 1 });
      expect(await store.registerTracked(reopened)).toBe(true);
      expect(await store.renewClaimBeforeCancel(renewed, claimed, position)).toBe('newer-state-registered');
      expect(await store.getSuspect(keyOf(position))).toEqual(claimed);

      // The ledger back at the proven state (or gone): held, and the renewal is stored.
      await store.upsertTracked([position]);
      expect(await store.renewClaimBeforeCancel(renewed, claimed, position)).toBe('held');
      expect(await store.getSuspect(keyOf(position))).toEqual(renewed);
      // The same renewal again: the claim has moved on, so it is lost to this version.
      expect(await store.renewClaimBeforeCancel(renewed, claimed, position)).toBe('claim-lost');
      await store.removeTracked(keyOf(position));
      const again = { ...renewed, claimedUntil: T0 + 230_000 };
      expect(await store.renewClaimBeforeCancel(again, renewed, position)).toBe('held');
      // A check ended the suspect: lost, and nothing is recreated.
      await store.deleteSuspect(keyOf(position));
      expect(
        await store.renewClaimBeforeCancel({ ...again, claimedUntil: T0 + 290_000 }, again, position),
      ).toBe('claim-lost');
      expect(await store.getSuspect(keyOf(position))).toBeUndefined();
    });

    it('ends a suspect only for a state newer than the one it was raised on', async () => {
      const store = await makeStore();
      const position = tracked();
      const sequence = position.stateSequence ?? 0;
      await store.createSuspect(suspect({ position }));
      expect(await store.endSuspectOlderThan(keyOf(position), position)).toBe(false);
      expect(
        await store.endSuspectOlderThan(keyOf(position), {
          stateSequence: sequence - 1,
          stateUpdatedAt: T0 + 9e6,
        }),
      ).toBe(false);
      expect(await store.getSuspect(keyOf(position))).toBeDefined();
      expect(
        await store.endSuspectOlderThan(keyOf(position), { stateSequence: sequence + 1, stateUpdatedAt: 1 }),
      ).toBe(true);
      expect(await store.getSuspect(keyOf(position))).toBeUndefined();
      expect(await store.endSuspectOlderThan(keyOf(position), { stateUpdatedAt: T0 + 9e6 })).toBe(false);
    });

    it("orders states by the core's one rule in every conditional write (sequence when both have one, else time)", async () => {
      const store = await makeStore();
      const versions: StateVersion[] = [];
      for (const stateUpdatedAt of [T0 - 2_000, T0 - 1_000])
        for (const stateSequence of [undefined, 7, 8])
          versions.push(stateSequence === undefined ? { stateUpdatedAt } : { stateUpdatedAt, stateSequence });
      const mismatches: string[] = [];
      let n = 0;
      for (const stored of versions) {
        for (const other of versions) {
          // A fresh symbol per pair: each write below starts from exactly `stored`.
          const symbol = `P${n++}USDT`;
          const key = { accountId: 'acct-1', symbol, positionIdx: 0 as const };
          const plain = (v: StateVersion): TrackedPosition => {
            const { stateSequence: _none, ...base } = tracked({ symbol, stateUpdatedAt: v.stateUpdatedAt });
            return v.stateSequence === undefined ? base : { ...base, stateSequence: v.stateSequence };
          };
          const said = (what: string, got: unknown, want: unknown) => {
            if (got !== want)
              mismatches.push(
                `${what} stored=${JSON.stringify(stored)} other=${JSON.stringify(other)}: ${got} != ${want}`,
              );
          };
          await store.upsertTracked([plain(stored)]);
          said('removeTracked', await store.removeTracked(key, other), !isNewerState(stored, other));
          await store.upsertTracked([plain(stored)]);
          said('registerTracked', await store.registerTracked(plain(other)), isNewerState(other, stored));
          await store.upsertTracked([plain(stored)]);
          await store.createSuspect(suspect({ position: plain(stored) }));
          const claimed = await store.claimSuspect(key, 0, T0 + 1, T0 + 60_000);
          if (claimed === undefined) throw new Error('claim failed');
          const renewal = await store.renewClaimBeforeCancel(
            { ...claimed, claimedUntil: T0 + 90_000 },
            claimed,
            other,
          );
          said('renewClaimBeforeCancel', renewal === 'newer-state-registered', isNewerState(stored, other));
          said(
            'endSuspectOlderThan',
            await store.endSuspectOlderThan(key, other),
            isNewerState(other, stored),
          );
        }
      }
      expect(mismatches).toEqual([]);
    });

    it('claims nothing when the suspect is absent, and does not create it', async () => {
      const store = await makeStore();
      const key: PositionKey = { accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0 };
      expect(await store.claimSuspect(key, 0, T0, T0 + 60_000)).toBeUndefined();
      expect(await store.getSuspect(key)).toBeUndefined();
      expect((await store.loadAccountView('acct-1')).suspects).toEqual([]);
    });

    it('replaces a suspect on update and forgets it on delete', async () => {
      const store = await makeStore();
      const s = suspect();
      await store.createSuspect(s);
      const updated: SuspectRecord = {
        ...s,
        attempts: 1,
        ...withMissingLook(s, { snapshotId: 'snap-3', fetchedAt: T0 + 45_000 }),
        nextAttemptAt: T0 + 120_000,
      };
      expect(await store.updateSuspect(updated, s)).toBe(true);
      expect(await store.getSuspect(keyOf(s))).toEqual(updated);
      expect((await store.loadAccountView('acct-1')).suspects).toEqual([updated]);

      await store.deleteSuspect(keyOf(s));
      expect(await store.getSuspect(keyOf(s))).toBeUndefined();
      expect((await store.loadAccountView('acct-1')).suspects).toEqual([]);
      // Deleting what is gone is not an error (a duplicate confirm may do it).
      await store.deleteSuspect(keyOf(s));
      // A new suspect for the same position can be raised again.
      expect(await store.createSuspect(s)).toBe(true);
    });

    it('keeps the account state, optional field absent when not given', async () => {
      const store = await makeStore();
      await store.saveAccountState({
        accountId: 'acct-1',
        consecutiveDistrusted: 3,
        lastCompleteSnapshotAt: T0,
      });
      expect((await store.loadAccountView('acct-1')).state).toEqual({
        accountId: 'acct-1',
        consecutiveDistrusted: 3,
        lastCompleteSnapshotAt: T0,
      });
      await store.saveAccountState({ accountId: 'acct-1', consecutiveDistrusted: 0 });
      const state = (await store.loadAccountView('acct-1')).state;
      expect(state).toEqual({ accountId: 'acct-1', consecutiveDistrusted: 0 });
      expect(state).not.toHaveProperty('lastCompleteSnapshotAt');
      expect((await store.loadAccountView('acct-2')).state).toEqual({
        accountId: 'acct-2',
        consecutiveDistrusted: 0,
      });
    });

    it('loads ledger, suspects and state together, each where it belongs', async () => {
      const store = await makeStore();
      const positions: TrackedPosition[] = [tracked(), bareTracked()];
      await store.upsertTracked(positions);
      const s = suspect();
      await store.createSuspect(s);
      await store.saveAccountState({ accountId: 'acct-1', consecutiveDistrusted: 1 });
      const view = await store.loadAccountView('acct-1');
      expect([...view.tracked].sort(byKey)).toEqual([...positions].sort(byKey));
      expect(view.suspects).toEqual([s]);
      expect(view.state).toEqual({ accountId: 'acct-1', consecutiveDistrusted: 1 });
    });
  });
}
