import { describe, expect, it } from 'vitest';
import { runSimulation, type SimulationOptions } from '#local/simulation/harness.js';
import { faultProfiles, profileOptions } from '#local/simulation/profiles.js';

/**
 * A fleet that sends from one address, as behind a NAT, through a market move that closes a third of
 * all positions at once: Bybit bans the address for ten minutes beyond its limit, and every request
 * during the ban prolongs it. The fleet must stop when banned (or it never gets out) and, given a
 * budget, should not get banned at all.
 */
describe('one crowded address through market crashes', () => {
  const crash = faultProfiles.find((p) => p.name === 'market-crash');
  if (crash === undefined) throw new Error('profile market-crash is missing');
  const accounts = 20;
  // 30 requests per 5 s for 20 accounts: checks take 10 of them, a crash's confirmations the rest and more.
  const run = (fleetRequestsPer5s: number) => {
    const base = profileOptions(crash, accounts);
    const options: SimulationOptions = {
      seed: 3,
      strategy: 'stopguard',
      accounts,
      cycles: 400,
      ...base,
      faults: { ...base.faults, ipRequestsPer5s: 30 },
      settings: { fleetRequestsPer5s, sharedEgress: true },
      // Longer than a ban, so that one still running when the faults stop is waited out.
      healCycles: 120,
    };
    return runSimulation(options);
  };

  it('without a budget it gets banned, pauses, and gets out: nothing unsafe, every orphan cleaned', async () => {
    const unbudgeted = await run(0);
    // Banned more than once, so each ban ended: a fleet that kept asking during one would have
    // prolonged it to the end of the run, one ban in all.
    expect(unbudgeted.ipBans).toBeGreaterThan(1);
    expect(unbudgeted.violations).toEqual([]);
    expect(unbudgeted.falseCancels).toBe(0);
    expect(unbudgeted.orphansNeverCleaned).toBe(0);
  });

  it('with a budget of 5/6 of the limit it is never banned and cleans up sooner', async () => {
    const [budgeted, unbudgeted] = await Promise.all([run(25), run(0)]);
    expect(budgeted.ipBans).toBe(0);
    expect(budgeted.violations).toEqual([]);
    expect(budgeted.falseCancels).toBe(0);
    expect(budgeted.orphansNeverCleaned).toBe(0);
    expect(budgeted.cleanupDelayCycles.p99).toBeLessThan(unbudgeted.cleanupDelayCycles.p99);
    expect(budgeted.orphansCleaned).toBeGreaterThan(unbudgeted.orphansCleaned);
  });
});
