/** The named fault profiles the simulation benchmark runs every strategy under. */

import type { ReconcileSettings } from '#contracts/settings.js';
import type { SimulationOptions } from './harness.js';
import type { InfraFaults } from './runner.js';
import type { WorkloadOptions } from './traders.js';
import { noFaults, type VenueFaults } from './venue-faults.js';

/** A named way for the exchange (and our own infrastructure) to misbehave. */
export interface FaultProfile {
  readonly name: string;
  readonly description: string;
  readonly faults: VenueFaults;
  readonly infra?: InfraFaults;
  readonly workload?: Partial<Omit<WorkloadOptions, 'seed'>>;
  /**
   * What depends on the fleet's size: a share of one egress address that a simulated fleet of any size
   * fills as a real one of 400 accounts fills Bybit's 600 per 5 s, and the budget the operator sets
   * for it.
   */
  readonly sizedTo?: (accounts: number) => {
    readonly faults: Partial<VenueFaults>;
    readonly settings: Partial<ReconcileSettings>;
  };
}

/** The options a profile gives a run of `accounts` accounts. */
export function profileOptions(
  profile: FaultProfile,
  accounts: number,
): Pick<SimulationOptions, 'faults' | 'infra' | 'workload' | 'settings'> {
  const sized = profile.sizedTo?.(accounts);
  return {
    faults: { ...profile.faults, ...sized?.faults },
    ...(profile.infra ? { infra: profile.infra } : {}),
    ...(profile.workload ? { workload: profile.workload } : {}),
    ...(sized ? { settings: sized.settings } : {}),
  };
}

/** Bybit's per-account limit at its harshest: 10 requests per second (10006 beyond it). */
const harshLimits = { accountRequestsPerSecond: 10, ipBanMs: 600_000 } as const;

/**
 * One address shared by the fleet: 1.5 requests per account per 5 s (Bybit's 600 shared by 400
 * accounts), of which steady checks at a 10 s cadence take a third; the confirmations of a market move
 * go beyond it unless the fleet keeps to a budget, here 5/6 of the limit (see `fleetBudgetOf`).
 */
const crowdedAddress = (accounts: number) => {
  const limit = Math.max(30, Math.round(accounts * 1.5));
  return {
    faults: { ipRequestsPer5s: limit },
    settings: { fleetRequestsPer5s: Math.floor((limit * 5) / 6), sharedEgress: true },
  };
};

export const faultProfiles: readonly FaultProfile[] = [
  {
    name: 'drops-2%',
    description: 'the incident: 2 % of list responses silently omit one position',
    faults: { ...noFaults, dropProbability: 0.02 },
  },
  {
    name: 'drops-20%',
    description: '20 % of lists omit up to 3 positions',
    faults: { ...noFaults, dropProbability: 0.2, maxDropped: 3 },
  },
  {
    name: 'correlated',
    description: '5 % drops that persist 30 s (the confirming list lies too), 20 % lying re-checks',
    faults: { ...noFaults, dropProbability: 0.05, correlatedDropMs: 30_000, recheckLieProbability: 0.2 },
  },
  {
    name: 'truncated',
    description: '10 % of lists silently cut after their first page (read as complete), 2 % drops',
    faults: { ...noFaults, dropProbability: 0.02, truncationProbability: 0.1 },
  },
  {
    name: 'history-lag',
    description: 'fills reach history up to a minute late, 2 % drops',
    faults: { ...noFaults, dropProbability: 0.02, historyLagMs: 60_000 },
  },
  {
    name: 'reopens',
    description:
      "positions reopen between a confirmation's calls (10 % per call), history up to a minute late, 2 % drops",
    faults: { ...noFaults, dropProbability: 0.02, historyLagMs: 60_000, reopenBetweenCalls: 0.1 },
  },
  {
    name: 'blank-closed-size',
    description:
      'half the fills come without closedSize (as Bybit documents it), so closed-PnL must say what each order closed; funding moves positions hourly; history up to 30 s late; 2 % drops',
    faults: {
      ...noFaults,
      dropProbability: 0.02,
      blankClosedSizeProbability: 0.5,
      fundingEveryMs: 3_600_000,
      historyLagMs: 30_000,
    },
  },
  {
    name: 'rate-limited',
    description:
      "the incident's 2 % drops under Bybit's harshest limits: 10 requests/s per account (10006), one crowded address (403 and a 10-minute ban beyond its limit) kept to a fleet budget",
    faults: { ...noFaults, dropProbability: 0.02, ...harshLimits },
    sizedTo: crowdedAddress,
  },
  {
    name: 'market-crash',
    description:
      'every hour a third of all positions on all accounts hit their stops within 10 s, under the harsh limits and the crowded address, 2 % drops',
    faults: { ...noFaults, dropProbability: 0.02, ...harshLimits },
    workload: { crashEveryCycles: 360 },
    sizedTo: crowdedAddress,
  },
  {
    name: 'stops-removed',
    description:
      'stops vanish from live positions (someone cancels one: 0.1 % per position-cycle; the bot never places it: 5 % of opens), the bot notices after 5 min on average; 10 % of positions carry no stop by design; 2 % drops',
    faults: {
      ...noFaults,
      dropProbability: 0.02,
      stopRemovedPerCycle: 0.001,
      stopNeverPlacedProbability: 0.05,
      stopRestoreMeanCycles: 30,
    },
    workload: { noStopShare: 0.1 },
  },
  {
    name: 'errors',
    description: '10 % of all calls fail (5xx, timeouts, rate limits), 2 % drops',
    faults: { ...noFaults, dropProbability: 0.02, failureProbability: 0.1 },
  },
  {
    name: 'infrastructure',
    description: '2 % drops; 10 % duplicate deliveries; 5 % worker crashes between cap and cancel',
    faults: { ...noFaults, dropProbability: 0.02 },
    infra: { duplicateDelivery: 0.1, crashBeforeCancel: 0.05 },
  },
  {
    name: 'everything',
    description: 'all of the above at once',
    faults: {
      dropProbability: 0.1,
      maxDropped: 2,
      correlatedDropMs: 30_000,
      recheckLieProbability: 0.1,
      failureProbability: 0.05,
      truncationProbability: 0.05,
      historyLagMs: 60_000,
      reopenBetweenCalls: 0.02,
      blankClosedSizeProbability: 0.2,
      fundingEveryMs: 3_600_000,
      accountRequestsPerSecond: 0,
      ipRequestsPer5s: 0,
      ipBanMs: 600_000,
      stopRemovedPerCycle: 0.0005,
      stopNeverPlacedProbability: 0.02,
      stopRestoreMeanCycles: 30,
    },
    infra: { duplicateDelivery: 0.05, crashBeforeCancel: 0.02 },
  },
];
