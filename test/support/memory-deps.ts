import { MemoryAccounts } from '#adapters/memory/memory-accounts.js';
import { MemoryAudit } from '#adapters/memory/memory-audit.js';
import { MemoryCap } from '#adapters/memory/memory-cap.js';
import { MemoryFleetGuard } from '#adapters/memory/memory-fleet.js';
import { MemoryQueue } from '#adapters/memory/memory-queue.js';
import { MemoryStore } from '#adapters/memory/memory-store.js';
import { MemoryTelemetry } from '#adapters/memory/memory-telemetry.js';
import { defaultSettings } from '#contracts/settings.js';
import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import type { ExchangeSession } from '#ports/exchange.js';
import { account } from './records.js';

/**
 * The reconciler's dependencies on memory adapters, for orchestration tests: the clock `now`, one
 * enabled account `acct-1`, the cancel and placement caps at 10/50 and 5/20 per minute, the default
 * settings, a fixed random draw of 0.5, no fleet budget, and every look answered by `exchange`.
 * `overrides` replaces any of them (a test's own store, telemetry or account record).
 */
export function memoryDeps(
  now: () => number,
  exchange: ExchangeSession,
  overrides: Partial<ReconcilerDeps> = {},
): ReconcilerDeps {
  return {
    clock: { now },
    ids: { next: (p) => `${p}-1` },
    accounts: new MemoryAccounts([account('acct-1')]),
    store: new MemoryStore(),
    cap: new MemoryCap({ perAccount: 10, global: 50, windowMs: 60_000 }),
    placementCap: new MemoryCap({ perAccount: 5, global: 20, windowMs: 60_000 }),
    queue: new MemoryQueue({ now }),
    audit: new MemoryAudit(),
    telemetry: new MemoryTelemetry(),
    settings: defaultSettings,
    random: { next: () => 0.5 },
    fleet: new MemoryFleetGuard(),
    exchangeFor: async () => exchange,
    ...overrides,
  };
}
