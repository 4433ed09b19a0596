import type { ReconcilerDeps } from '#orchestration/dependencies.js';
import { type WiringInputs, wireCommon } from './shared-wiring.js';

/**
 * The scheduler's dependencies: it reads accounts and enqueues checks. Its exchange access is a
 * function that refuses, so even a wiring mistake cannot make the scheduler cancel anything.
 */
export function wireScheduler(inputs: WiringInputs): ReconcilerDeps {
  return {
    ...wireCommon(inputs),
    exchangeFor: async () => {
      throw new Error('the scheduler has no exchange access');
    },
  };
}
