import { describe, expect, it } from 'vitest';
import { runSimulation } from '#local/simulation/harness.js';
import { noFaults } from '#local/simulation/venue-faults.js';

/**
 * The incident, reproduced: Bybit's bulk list drops a position 2 % of the time. The naive rule
 * (missing once → cancel its orders) strips stops off live positions; stopguard, over the very same
 * seeded responses, never does, and still cleans every real orphan.
 */
describe('the incident: 2 % of list responses silently drop a position', () => {
  const common = {
    seed: 2024,
    accounts: 10,
    cycles: 600,
    faults: { ...noFaults, dropProbability: 0.02 },
  } as const;

  it('the naive reconciler cancels stops on open positions', async () => {
    const naive = await runSimulation({ ...common, strategy: 'naive' });
    expect(naive.falseCancels).toBeGreaterThan(0);
    expect(naive.violations[0]).toMatch(/^false cancel: naive seed=2024 cancelled ord-\d+ of open /);
  });

  it('stopguard never does over the same responses, and cleans every real orphan', async () => {
    const stopguard = await runSimulation({ ...common, strategy: 'stopguard' });
    expect(stopguard.falseCancels).toBe(0);
    expect(stopguard.violations).toEqual([]);
    expect(stopguard.trueOrphans).toBeGreaterThan(50);
    expect(stopguard.orphansNeverCleaned).toBe(0);
    // every orphan older than the end-of-run patience window is gone; the rest are few and recent
    expect(stopguard.orphansCleaned).toBeGreaterThan(stopguard.trueOrphans * 0.95);
    // the glitches were seen, and counted as incomplete responses rather than acted on
    expect(stopguard.suspectsCleared).toBeGreaterThan(0);
  });

  it('the two-fetch layer alone still fails when the confirming fetch lies too (correlated drops)', async () => {
    const faults = { ...noFaults, dropProbability: 0.02, correlatedDropMs: 30_000 };
    const twoFetch = await runSimulation({ ...common, strategy: 'two-fetch', faults });
    const stopguard = await runSimulation({ ...common, strategy: 'stopguard', faults });
    expect(twoFetch.falseCancels).toBeGreaterThan(0);
    expect(stopguard.falseCancels).toBe(0);
    expect(stopguard.orphansNeverCleaned).toBe(0);
  });
});
