import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '#contracts/settings.js';
import { runSimulation } from '#local/simulation/harness.js';
import { StopguardRunner } from '#local/simulation/stopguard-runner.js';
import { SimVenue } from '#local/simulation/venue.js';
import { noFaults, type VenueFaults } from '#local/simulation/venue-faults.js';
import { START, VirtualClock } from '#local/simulation/virtual-clock.js';

/**
 * The safety and liveness invariants, over the real orchestration (check → suspect → delayed confirm
 * → evidence → cap → cancel) with in-memory ports, a simulated venue and a virtual clock.
 */

const faultsArb: fc.Arbitrary<VenueFaults> = fc.record({
  dropProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
  maxDropped: fc.integer({ min: 1, max: 4 }),
  correlatedDropMs: fc.constantFrom(0, 10_000, 60_000),
  recheckLieProbability: fc.double({ min: 0, max: 0.5, noNaN: true }),
  failureProbability: fc.double({ min: 0, max: 0.3, noNaN: true }),
  truncationProbability: fc.double({ min: 0, max: 0.3, noNaN: true }),
  historyLagMs: fc.constantFrom(0, 5_000, 60_000),
  reopenBetweenCalls: fc.constantFrom(0, 0, 0.05, 0.2),
  blankClosedSizeProbability: fc.constantFrom(0, 0, 0.5, 1),
  fundingEveryMs: fc.constantFrom(0, 600_000),
  accountRequestsPerSecond: fc.constantFrom(0, 0, 10, 4),
  ipRequestsPer5s: fc.constantFrom(0, 0, 600, 60),
  ipBanMs: fc.constantFrom(600_000),
  stopRemovedPerCycle: fc.constantFrom(0, 0.01),
  stopNeverPlacedProbability: fc.constantFrom(0, 0.1),
  stopRestoreMeanCycles: fc.constantFrom(0, 5),
});

/**
 * Fault-free cycles after the faults stop: longer than a stuck suspect's look (15 minutes), the bound
 * on how long an orphan may wait once the venue behaves.
 */
const HEAL_CYCLES = Math.ceil(defaultSettings.stuckLookMs / defaultSettings.cadenceMs) + 30;

describe('stopguard over arbitrary exchange and infrastructure faults', () => {
  it('never cancels an order of an open position, and leaves no real orphan behind for good', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        faultsArb,
        fc.record({
          duplicateDelivery: fc.double({ min: 0, max: 0.3, noNaN: true }),
          crashBeforeCancel: fc.double({ min: 0, max: 0.3, noNaN: true }),
        }),
        async (seed, faults, infra) => {
          const result = await runSimulation({
            seed,
            strategy: 'stopguard',
            accounts: 3,
            cycles: 240,
            faults,
            infra,
            healCycles: HEAL_CYCLES,
          });
          expect(result.violations).toEqual([]);
          expect(result.falseCancels).toBe(0);
          expect(result.orphansNeverCleaned).toBe(0);
        },
      ),
      { numRuns: Number(process.env.STOPGUARD_PROPERTY_RUNS ?? 40) },
    );
  });
});

describe('a reopen between the proof of a close and its cancels', () => {
  it('never costs a stop: the venue may reopen the position, history lagging, before any call of a confirmation', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0.02, max: 0.5, noNaN: true }),
        fc.constantFrom(0, 5_000, 30_000, 60_000),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.constantFrom(0, 0.1, 0.3),
        fc.boolean(),
        async (
          seed,
          reopenBetweenCalls,
          historyLagMs,
          dropProbability,
          recheckLieProbability,
          registerOnOpen,
        ) => {
          const result = await runSimulation({
            seed,
            strategy: 'stopguard',
            accounts: 3,
            cycles: 200,
            faults: { ...noFaults, reopenBetweenCalls, historyLagMs, dropProbability, recheckLieProbability },
            // With and without the bot registering what it (re)opens.
            registerOnOpen,
            // Short-lived positions: many closes, so many confirmations to race against.
            workload: { meanLifetimeCycles: 12, meanFlatCycles: 6 },
          });
          expect(result.violations).toEqual([]);
          expect(result.falseCancels).toBe(0);
          expect(result.orphansNeverCleaned).toBe(0);
          // The race really ran: positions were reopened under confirmations.
          expect(result.reopensInjected).toBeGreaterThan(0);
        },
      ),
      { numRuns: Number(process.env.STOPGUARD_PROPERTY_RUNS ?? 40) },
    );
  });
});

describe('liveness: counterexamples the random search found, replayed exactly', () => {
  it('cleans an orphan whose suspect got stuck under a starved rate limit, once the venue recovers (seed 767103)', async () => {
    // At 4 requests/s the last re-check before the cancels was refused 30 times in a row: the suspect
    // became stuck and is looked at every 15 minutes. Liveness holds within that look once faults end.
    const result = await runSimulation({
      seed: 767103,
      strategy: 'stopguard',
      accounts: 3,
      cycles: 240,
      faults: { ...noFaults, accountRequestsPerSecond: 4 },
      healCycles: HEAL_CYCLES,
    });
    expect(result.violations).toEqual([]);
    expect(result.orphansNeverCleaned).toBe(0);
  });

  it('cleans a position with more orders than the per-account cap over several windows (seed 7)', async () => {
    // 12 orders piled up on S3USDT while its closes could not be confirmed; asking the cap for all 12
    // at once (more than the whole budget of 10) was refused every window, for ever.
    const result = await runSimulation({
      seed: 7,
      strategy: 'stopguard',
      accounts: 3,
      cycles: 240,
      faults: {
        ...noFaults,
        failureProbability: 0.27490776474587625,
        truncationProbability: 0.2558710833545775,
      },
      infra: { duplicateDelivery: 0, crashBeforeCancel: 0.26339627266861504 },
    });
    expect(result.violations).toEqual([]);
    expect(result.falseCancels).toBe(0);
    expect(result.orphansNeverCleaned).toBe(0);
    expect(result.orphansCleaned).toBeGreaterThan(0);
  });
});

describe('liveness: a real close is cleaned up promptly', () => {
  it('cancels the orphans of a closed position within the confirm delay plus one cycle', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 30 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        async (seed, positions, closeCycle, dropsBefore) => {
          const settings = defaultSettings;
          const clock = new VirtualClock(START);
          const venue = new SimVenue(seed, clock, { ...noFaults, dropProbability: dropsBefore });
          const rig = new StopguardRunner({ seed }, settings, clock, venue, ['acct-1']);
          // the bot registers what it opens, as in production
          venue.onOpen = (accountId, position) => rig.register(accountId, position);
          for (let i = 0; i < positions; i++) {
            venue.open('acct-1', `L${i}USDT`, 0, 'long', 1);
            venue.placeProtective('acct-1', `L${i}USDT`, 0, 'stop-loss');
            venue.placeProtective('acct-1', `L${i}USDT`, 0, 'take-profit');
          }
          let closedAt = 0;
          for (let cycle = 1; cycle <= closeCycle + 3; cycle++) {
            clock.time = START + cycle * settings.cadenceMs;
            if (cycle === closeCycle) {
              // the exchange now answers truthfully; the stop-loss of the first position fires
              venue.faults = noFaults;
              const [stopLoss] = venue.protectiveOrdersOf('acct-1', 'L0USDT', 0);
              venue.close('acct-1', 'L0USDT', 0, 'stop-loss', stopLoss?.orderId);
              closedAt = clock.now();
            }
            await rig.check('acct-1');
            await rig.drainUntil(START + (cycle + 1) * settings.cadenceMs);
          }
          const orphans = [...venue.orphans.values()];
          expect(orphans).toHaveLength(1);
          const cleanedAt = orphans[0]?.cleanedAt;
          expect(cleanedAt).toBeDefined();
          expect((cleanedAt ?? Number.POSITIVE_INFINITY) - closedAt).toBeLessThanOrEqual(
            settings.confirmDelayMs + settings.cadenceMs,
          );
          expect(venue.falseCancels).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
