import { describe, expect, it } from 'vitest';
import type { ProtectionIntent, ProtectionWatch } from '#core/protection.js';
import type { ReconciliationStore } from '#ports/store.js';
import { T0, tracked } from './records.js';

/** What every store must do with the protection audit's items: watches (checks) and intents (register). */
export function protectionStoreContract(name: string, makeStore: () => Promise<ReconciliationStore>): void {
  const watch = (over: Partial<ProtectionWatch> = {}): ProtectionWatch => ({
    accountId: 'acct-1',
    symbol: 'BTCUSDT',
    positionIdx: 0,
    side: 'long',
    size: '0.5',
    since: T0,
    looks: 1,
    coveredShare: '0',
    snapshotIds: ['snap-1'],
    ...over,
  });
  const intent = (over: Partial<ProtectionIntent> = {}): ProtectionIntent => ({
    accountId: 'acct-1',
    symbol: 'BTCUSDT',
    positionIdx: 1,
    noStopIntended: true,
    updatedAt: T0,
    ...over,
  });

  describe(`${name} keeps the protection audit's items`, () => {
    it('loads watches and intents with the account view, apart from the ledger', async () => {
      const store = await makeStore();
      await store.upsertTracked([tracked()]);
      const w = watch({ alarmedAt: T0 + 30_000, looks: 2, changedAt: T0 - 60_000 });
      const eth = watch({ symbol: 'ETHUSDT' });
      await store.saveWatches([w, eth, watch({ accountId: 'acct-2' })], []);
      await store.recordIntent(intent({ stopPrice: '59000', noStopIntended: false }));
      const view = await store.loadAccountView('acct-1');
      expect(view.tracked).toEqual([tracked()]);
      expect([...view.watches].sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([w, eth]);
      expect(view.watches[1]).not.toHaveProperty('alarmedAt');
      expect(view.intents).toEqual([intent({ stopPrice: '59000', noStopIntended: false })]);
    });

    it('drops the watches whose episode ended, and only those', async () => {
      const store = await makeStore();
      await store.saveWatches([watch(), watch({ symbol: 'ETHUSDT' })], []);
      await store.saveWatches([], [{ accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 0 }]);
      expect((await store.loadAccountView('acct-1')).watches.map((w) => w.symbol)).toEqual(['ETHUSDT']);
    });

    it('marks a watch only while it is as loaded: two racing placements cannot both go ahead', async () => {
      const store = await makeStore();
      const loaded = watch({ alarmedAt: T0 + 30_000, looks: 2 });
      await store.saveWatches([loaded], []);
      expect(await store.markWatch({ ...loaded, stopPlacedAt: T0 + 31_000 }, loaded)).toBe(true);
      expect(await store.markWatch({ ...loaded, stopPlacedAt: T0 + 32_000 }, loaded)).toBe(false);
      expect((await store.loadAccountView('acct-1')).watches[0]?.stopPlacedAt).toBe(T0 + 31_000);
      const gone = watch({ symbol: 'ETHUSDT' });
      expect(await store.markWatch({ ...gone, stopPlacedAt: T0 }, gone)).toBe(false);
    });

    it("ends the bot's word once the close is proven, unless a newer word came since", async () => {
      const store = await makeStore();
      const key = { accountId: 'acct-1', symbol: 'BTCUSDT', positionIdx: 1 as const };
      await store.recordIntent(intent({ updatedAt: T0 + 10 }));
      expect(await store.removeIntent(key, T0 + 9)).toBe(false);
      expect((await store.loadAccountView('acct-1')).intents).toHaveLength(1);
      expect(await store.removeIntent(key, T0 + 10)).toBe(true);
      expect((await store.loadAccountView('acct-1')).intents).toEqual([]);
      expect(await store.removeIntent(key, T0 + 10)).toBe(false);
    });

    it("keeps the newest registration's word on a stop: a late, older one does not overwrite it", async () => {
      const store = await makeStore();
      expect(await store.recordIntent(intent({ updatedAt: T0 + 1_000 }))).toBe(true);
      expect(await store.recordIntent(intent({ noStopIntended: false, updatedAt: T0 }))).toBe(false);
      expect((await store.loadAccountView('acct-1')).intents).toEqual([intent({ updatedAt: T0 + 1_000 })]);
      expect(
        await store.recordIntent(
          intent({ noStopIntended: false, stopPrice: '59000', updatedAt: T0 + 2_000 }),
        ),
      ).toBe(true);
      expect((await store.loadAccountView('acct-1')).intents[0]).toMatchObject({
        noStopIntended: false,
        stopPrice: '59000',
      });
      // A newer word without a stop price clears the earlier one.
      expect(await store.recordIntent(intent({ noStopIntended: false, updatedAt: T0 + 3_000 }))).toBe(true);
      expect((await store.loadAccountView('acct-1')).intents[0]).not.toHaveProperty('stopPrice');
    });
  });
}
