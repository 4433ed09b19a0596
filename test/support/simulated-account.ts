import { type BybitSessionConfig, createBybitSession } from '#adapters/bybit/bybit-session.js';
import {
  type BybitSimulator,
  noFaults,
  startBybitSimulator,
  type VirtualClock,
} from '#local/bybit-simulator/index.js';
import type { ExchangeSession } from '#ports/exchange.js';

/** An account of the Bybit simulator: its id and the keys the adapter signs with. */
export interface SimulatedAccount {
  readonly id: string;
  readonly apiKey: string;
  readonly apiSecret: string;
}

/**
 * The simulator for the adapter tests of one one-way account: on `clock` (requests are signed on the
 * wall clock, as the SDK does), without faults, and without its per-second limit, which a clock that
 * only moves when told would trip at random (the rate-limit tests set their own).
 */
export function startOneAccountSimulator(
  account: SimulatedAccount,
  seed: number,
  clock: VirtualClock,
): Promise<BybitSimulator> {
  return startBybitSimulator({
    seed,
    clock: clock.now,
    authClock: Date.now,
    rateLimitPerSecond: 0,
    faults: noFaults,
    accounts: [{ ...account, positionMode: 'one-way' }],
  });
}

/** A Bybit adapter session of `account` on the simulator, sharing its clock, with a 2 s request timeout. */
export function adapterSession(
  sim: BybitSimulator,
  account: SimulatedAccount,
  clock: VirtualClock,
  over: Partial<BybitSessionConfig> = {},
): ExchangeSession {
  let n = 0;
  return createBybitSession({
    baseUrl: sim.url,
    apiKey: account.apiKey,
    apiSecret: account.apiSecret,
    requestTimeoutMs: 2_000,
    ids: { next: (prefix) => `${prefix}-${account.id}-${++n}` },
    clock,
    ...over,
  });
}
