/** The named fault profiles the simulation benchmark runs every strategy under. */

import type { InfraFaults } from './runner.js';
import { noFaults, type VenueFaults } from './venue-faults.js';

/** A named way for the exchange (and our own infrastructure) to misbehave. */
export interface FaultProfile {
  readonly name: string;
  readonly description: string;
  readonly faults: VenueFaults;
  readonly infra?: InfraFaults;
}

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
    },
    infra: { duplicateDelivery: 0.05, crashBeforeCancel: 0.02 },
  },
];
