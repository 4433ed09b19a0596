import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '#contracts/settings.js';
import { runSimulation } from '#local/simulation/harness.js';
import { faultProfiles, profileOptions } from '#local/simulation/profiles.js';
import { noFaults } from '#local/simulation/venue-faults.js';

const stopsRemoved = faultProfiles.find((p) => p.name === 'stops-removed');
if (stopsRemoved === undefined) throw new Error('the stops-removed profile is gone');
const ACCOUNTS = 8;
const run = (protection?: { mode: 'alarm' | 'replace'; stopDistance?: string }) =>
  runSimulation({
    seed: 11,
    strategy: 'stopguard',
    accounts: ACCOUNTS,
    cycles: 900,
    ...profileOptions(stopsRemoved, ACCOUNTS),
    ...(protection === undefined ? {} : { protection }),
  });

/** The grace, and the 2 looks that must follow it, in cycles. */
const JUDGED_WITHIN = defaultSettings.protectionGraceMs / defaultSettings.cadenceMs + 2;

describe('the protection audit against the venue truth (stops-removed)', () => {
  it('finds every stop that stayed gone past the grace and 2 looks, and alarms nothing else', async () => {
    const result = await run();
    expect(result.protection.episodesLongEnough).toBeGreaterThan(10);
    expect(result.protection.missed).toBe(0);
    expect(result.protection.found).toBe(result.protection.episodesLongEnough);
    expect(result.protection.falseAlarms).toBe(0);
    expect(result.protection.detectionDelayCycles.p99).toBeLessThanOrEqual(JUDGED_WITHIN);
    expect(result.falseCancels).toBe(0);
    expect(result.violations).toEqual([]);
  });

  it('in replace mode re-protects them sooner, never placing a stop on a protected or closed position', async () => {
    const [alarmOnly, replaced] = [await run(), await run({ mode: 'replace', stopDistance: '0.05' })];
    expect(replaced.protection.stopsPlaced).toBeGreaterThan(10);
    expect(replaced.protection.misplacedStops).toBe(0);
    expect(replaced.protection.falseAlarms).toBe(0);
    expect(replaced.protection.unprotectedCycles.p99).toBeLessThan(
      alarmOnly.protection.unprotectedCycles.p99,
    );
    expect(replaced.protection.unprotectedCycles.p99).toBeLessThanOrEqual(JUDGED_WITHIN);
    expect(replaced.falseCancels).toBe(0);
    expect(replaced.orphansNeverCleaned).toBe(0);
  });

  it('costs no order listing where every position carries its own stop', async () => {
    const result = await runSimulation({
      seed: 11,
      strategy: 'stopguard',
      accounts: ACCOUNTS,
      cycles: 300,
      faults: { ...noFaults, dropProbability: 0.02 },
    });
    expect(result.protection.listingsPerAccountCycle).toBe(0);
    expect(result.protection.episodesLongEnough).toBe(0);
  });

  it('property: whatever the venue drops, lies about or fails, no protected position is alarmed and no stop is misplaced', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.record({
          dropProbability: fc.double({ min: 0, max: 0.3, noNaN: true }),
          maxDropped: fc.integer({ min: 1, max: 3 }),
          correlatedDropMs: fc.constantFrom(0, 30_000),
          truncationProbability: fc.double({ min: 0, max: 0.2, noNaN: true }),
          failureProbability: fc.double({ min: 0, max: 0.2, noNaN: true }),
          reopenBetweenCalls: fc.constantFrom(0, 0.05),
          stopRemovedPerCycle: fc.constantFrom(0, 0.005, 0.02),
          stopNeverPlacedProbability: fc.constantFrom(0, 0.1),
          stopRestoreMeanCycles: fc.constantFrom(0, 5, 30),
        }),
        fc.constantFrom('alarm', 'replace'),
        async (seed, faults, mode) => {
          const result = await runSimulation({
            seed,
            strategy: 'stopguard',
            accounts: 3,
            cycles: 240,
            faults: { ...noFaults, ...faults },
            workload: { noStopShare: 0.2 },
            protection: { mode, stopDistance: '0.05' },
          });
          expect(result.protection.falseAlarms).toBe(0);
          expect(result.protection.misplacedStops).toBe(0);
          expect(result.falseCancels).toBe(0);
          expect(result.violations).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.STOPGUARD_PROPERTY_RUNS ?? 25) },
    );
  });
});
