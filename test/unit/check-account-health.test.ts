import { describe, expect, it } from 'vitest';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import type { PositionSnapshot } from '#core/types.js';
import { runCheck } from '#orchestration/check.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { Metric } from '#ports/telemetry.js';
import { memoryDeps } from '#test/support/memory-deps.js';
import { T0 } from '#test/support/records.js';

/**
 * An account that never gets a complete list is not reconciled at all: that must show as staleness and
 * as an alarm, from its first check, whatever the reason (wrong keys from day one included).
 */
function rig(answers: () => PositionSnapshot) {
  let now = T0;
  const telemetry = new MemoryTelemetry();
  const forgotten: string[] = [];
  const exchange: ExchangeSession = {
    fetchOpenPositions: async () => answers(),
    recheckSymbol: async () => ({ status: 'listed', checkedAt: now, open: [], flat: [] }),
    fetchPositionChanges: async () => new Map(),
    fetchProtectiveOrders: async () => ({ status: 'known', orders: [] }),
    cancelOrder: async (_s, orderId) => ({ status: 'cancelled', orderId }),
    placeStop: async () => ({ status: 'failed', detail: 'not in this test' }),
  };
  const deps = memoryDeps(() => now, exchange, {
    telemetry,
    forgetKeys: (a) => forgotten.push(a.accountId),
  });
  return {
    telemetry,
    forgotten,
    checkAt: async (at: number) => {
      now = at;
      await runCheck(deps, { type: 'check', accountId: 'acct-1', slot: 0 });
      return telemetry.gauges.get(Metric.SnapshotAgeSeconds);
    },
  };
}

const refused = (): PositionSnapshot => ({
  status: 'unknown',
  snapshotId: 'snap-x',
  fetchedAt: T0,
  pages: 0,
  positions: [],
  failure: {
    reason: 'auth-error',
    detail: 'GET /v5/position/list: Bybit retCode 10003 "API key is invalid."',
    exchangeCode: 10003,
  },
});

describe('an account that is never reconciled', () => {
  it('ages from its first check when no list was ever complete, and alarms on refused keys', async () => {
    const { telemetry, checkAt, forgotten } = rig(refused);
    expect(await checkAt(T0)).toBe(0);
    expect(await checkAt(T0 + 600_000)).toBe(600);
    expect(await checkAt(T0 + 900_000)).toBe(900);
    expect(telemetry.countOf(Metric.AuthErrors)).toBe(3);
    // Each refusal drops the cached keys, so a rotated key is read at the next check.
    expect(forgotten).toEqual(['acct-1', 'acct-1', 'acct-1']);
  });

  it('ages from its last complete list once it had one, and is fresh while lists are complete', async () => {
    let complete = true;
    const { telemetry, checkAt, forgotten } = rig(() =>
      complete
        ? { status: 'complete', snapshotId: 'snap-ok', fetchedAt: T0 + 60_000, pages: 1, positions: [] }
        : { ...refused(), failure: { reason: 'http-error', detail: 'HTTP 503' } },
    );
    expect(await checkAt(T0 + 60_000)).toBe(0);
    complete = false;
    expect(await checkAt(T0 + 360_000)).toBe(300);
    expect(telemetry.countOf(Metric.AuthErrors)).toBe(0);
    // An outage is no reason to read the keys again.
    expect(forgotten).toEqual([]);
  });

  it('reads the keys again only for refusals new keys can cure, not for a missing permission', async () => {
    const { checkAt, forgotten, telemetry } = rig(() => ({
      ...refused(),
      failure: { reason: 'auth-error', detail: 'permission denied', exchangeCode: 10005 },
    }));
    await checkAt(T0);
    expect(telemetry.countOf(Metric.AuthErrors)).toBe(1);
    expect(forgotten).toEqual([]);
  });
});
