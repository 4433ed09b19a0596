import { describe, expect, it } from 'vitest';
import { runSimulation } from '#local/simulation/harness.js';
import { faultProfiles, profileOptions } from '#local/simulation/profiles.js';

/** The short form of `npm run simulate`: every fault profile, in CI. */
describe.each(faultProfiles)('fault profile $name ($description)', (profile) => {
  it('stopguard: zero false cancels, every real orphan cleaned once the faults stop', async () => {
    const result = await runSimulation({
      seed: 11,
      strategy: 'stopguard',
      accounts: 8,
      cycles: 400,
      ...profileOptions(profile, 8),
    });
    expect(result.violations).toEqual([]);
    expect(result.falseCancels).toBe(0);
    expect(result.orphansNeverCleaned).toBe(0);
    expect(result.trueOrphans).toBeGreaterThan(20);
    expect(result.orphansCleaned + result.orphansAdoptedByReopen).toBe(result.trueOrphans);
  });
});

describe('the baselines over the same worlds', () => {
  it('the naive rule cancels live stops at the incident glitch rate', async () => {
    const drops = faultProfiles.find((p) => p.name === 'drops-2%');
    if (drops === undefined) throw new Error('profile drops-2% is missing');
    const naive = await runSimulation({
      seed: 11,
      strategy: 'naive',
      accounts: 8,
      cycles: 400,
      faults: drops.faults,
    });
    expect(naive.falseCancels).toBeGreaterThan(0);
  });
});
