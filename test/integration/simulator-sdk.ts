/** Shared setup of the tests that drive the Bybit simulator through the real bybit-api SDK. */

import { RestClientV5 } from 'bybit-api';
import { afterEach } from 'vitest';
import {
  type BybitSimulator,
  createVirtualClock,
  noFaults,
  type SimulatorOptions,
  startBybitSimulator,
} from '#local/bybit-simulator/index.js';

export const T0 = 1_767_225_600_000;
export const ONE_WAY = { id: 'acct-1', apiKey: 'sim-key-1', apiSecret: 'sim-secret-1' };
export const HEDGE = {
  id: 'acct-h',
  apiKey: 'sim-key-h',
  apiSecret: 'sim-secret-h',
  positionMode: 'hedge' as const,
};

/**
 * Returns `start` for the calling test file, and closes the simulator it started after each test.
 * `start` puts the simulator on a virtual clock; the SDK stamps requests with Date.now, hence `authClock`.
 */
export function simulatorPerTest() {
  let sim: BybitSimulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });
  return async function start(options: SimulatorOptions = {}) {
    const clock = createVirtualClock(T0);
    sim = await startBybitSimulator({
      clock: clock.now,
      authClock: Date.now,
      accounts: [ONE_WAY, HEDGE],
      faults: noFaults,
      ...options,
    });
    return { sim, clock };
  };
}

export function client(s: BybitSimulator, account: { apiKey: string; apiSecret: string } = ONE_WAY) {
  return new RestClientV5({
    baseUrl: s.url,
    key: account.apiKey,
    secret: account.apiSecret,
    parseAPIRateLimits: true,
  });
}
