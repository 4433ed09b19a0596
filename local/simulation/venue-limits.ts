/**
 * The simulated venue's rate limits, on the virtual clock: a rolling second per account (Bybit's
 * 10006, answered with the time the window frees up) and a 5-second window for the fleet's one egress
 * address (Bybit's HTTP 403 "access too frequent", a ban of at least 10 minutes that every request
 * during it restarts, so only a fleet that stops asking gets out of it).
 */

import type { SnapshotFailure } from '#core/types.js';
import type { VenueFaults } from './venue-faults.js';

export class VenueLimits {
  private readonly perAccount = new Map<string, number[]>();
  private fleet: number[] = [];
  private bannedUntil = 0;
  /** Bans the fleet ran into (each a distinct episode). */
  bans = 0;

  /** Admits one request, or says why it is refused. */
  admit(faults: VenueFaults, accountId: string, now: number): SnapshotFailure | undefined {
    if (faults.ipRequestsPer5s > 0) {
      if (now < this.bannedUntil) {
        this.bannedUntil = now + faults.ipBanMs;
        return banned(this.bannedUntil);
      }
      this.fleet = this.fleet.filter((t) => t > now - 5_000);
      if (this.fleet.length >= faults.ipRequestsPer5s) {
        this.bans++;
        this.bannedUntil = now + faults.ipBanMs;
        return banned(this.bannedUntil);
      }
      this.fleet.push(now);
    }
    if (faults.accountRequestsPerSecond > 0) {
      const window = (this.perAccount.get(accountId) ?? []).filter((t) => t > now - 1_000);
      this.perAccount.set(accountId, window);
      if (window.length >= faults.accountRequestsPerSecond) {
        return {
          reason: 'rate-limited',
          detail: 'retCode 10006 "Too many visits!" (simulated)',
          exchangeCode: 10006,
          retryAt: (window[0] ?? now) + 1_000,
        };
      }
      window.push(now);
    }
    return undefined;
  }
}

function banned(until: number): SnapshotFailure {
  return { reason: 'ip-banned', detail: 'HTTP 403 access too frequent (simulated)', retryAt: until };
}
