import { describe, expect, it } from 'vitest';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { positionIdOf } from '#core/keys.js';
import type { OpenProtectiveOrders } from '#core/types.js';
import { runConfirm } from '#orchestration/confirm.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { memoryDeps } from '#test/support/memory-deps.js';
import { order, suspect, T0, tracked } from '#test/support/records.js';

/**
 * A pass over two symbols of an account whose resting orders outgrow one listing (a grid on ETHUSDT):
 * each member is decided on its own symbol's orders. Memory adapters and a scripted exchange port.
 */
const NOW = T0 + 40_000;
const btc = tracked();
const eth = tracked({
  symbol: 'ETHUSDT',
  stateSequence: 55,
  protectiveOrders: [order({ orderId: 'eth-sl', symbol: 'ETHUSDT', triggerPrice: '3000' })],
});
const pageLimit: OpenProtectiveOrders = {
  status: 'unknown',
  failure: { reason: 'page-limit', detail: 'GET /v5/order/realtime: still a next cursor after 50 pages' },
};

describe('a pass whose account has too many resting orders for one listing', () => {
  it("cancels the quiet symbol's orphans on its own listing and keeps waiting for the grid's", async () => {
    const store = new MemoryStore();
    await store.upsertTracked([btc, eth]);
    await store.createSuspect(suspect({ position: btc }));
    await store.createSuspect(suspect({ position: eth }));
    const asked: string[] = [];
    const cancelled: string[] = [];
    const exchange: ExchangeSession = {
      fetchOpenPositions: async () => ({
        status: 'complete',
        snapshotId: 'snap-3',
        fetchedAt: NOW,
        pages: 1,
        positions: [],
      }),
      recheckSymbol: async () => ({ status: 'listed', checkedAt: NOW, open: [], flat: [0] }),
      fetchPositionChanges: async (positions) =>
        new Map(
          positions.map((p) => [
            positionIdOf(p),
            {
              status: 'known',
              searchedFrom: p.stateUpdatedAt,
              searchedTo: NOW,
              changes: [
                {
                  id: `close-${p.symbol}`,
                  source: 'execution',
                  time: T0 + 20_000,
                  closedQty: p.size,
                  openedQty: '0',
                  kind: 'stop-loss',
                },
              ],
            },
          ]),
        ),
      fetchProtectiveOrders: async (symbols) => {
        asked.push(symbols?.join(',') ?? '(whole account)');
        if (symbols?.length !== 1 || symbols[0] === 'ETHUSDT') return pageLimit;
        return { status: 'known', orders: [order({ orderId: 'btc-tp', kind: 'take-profit' })] };
      },
      cancelOrder: async (_symbol, orderId) => {
        cancelled.push(orderId);
        return { status: 'cancelled', orderId };
      },
      placeStop: async () => ({ status: 'failed', detail: 'no stop is placed in a confirmation' }),
    };
    const outcome = await runConfirm(
      memoryDeps(() => NOW, exchange, { store }),
      {
        type: 'confirm',
        accountId: 'acct-1',
        symbol: 'BTCUSDT',
        positionIdx: 0,
        attempt: 0,
      },
    );
    expect(asked).toEqual(['BTCUSDT,ETHUSDT', 'BTCUSDT', 'ETHUSDT']);
    const bySymbol = new Map(outcome.decided.map((d) => [d.decision?.key.symbol, d.decision]));
    expect(bySymbol.get('BTCUSDT')).toMatchObject({ kind: 'cancel-orphans' });
    expect(bySymbol.get('ETHUSDT')).toMatchObject({ kind: 'await-confirmation', reason: 'orders-unknown' });
    expect(cancelled).toEqual(['btc-tp']);
  });
});
