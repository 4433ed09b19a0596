/** The incident's rules, the baselines stopguard is measured against, over the simulated venue. */

import type { ReconcileSettings } from '#contracts/settings.js';
import { positionIdOf } from '#core/keys.js';
import type { Runner } from './runner.js';
import type { SimVenue } from './venue.js';
import type { VirtualClock } from './virtual-clock.js';

/**
 * The incident's rules. `naive`: a tracked position missing from one list is closed; cancel its
 * orders. `two-fetch`: the incident report's first layer; a second list after the confirm delay must
 * agree. Both treat a failed fetch as "skip", which is generous to them.
 */
export class BaselineRunner implements Runner {
  private readonly tracked = new Map<string, Set<string>>();
  private readonly pendingSecondLook: { accountId: string; id: string; at: number }[] = [];

  heal(): void {}
  readonly stats = {
    suspectsRaised: 0,
    suspectsCleared: 0,
    kept: 0,
    capRefusals: 0,
    distrusted: 0,
    crashes: 0,
    reads: 0,
    writes: 0,
    accountReads: 0,
    protectionListings: 0,
  };

  constructor(
    private readonly strategy: 'naive' | 'two-fetch',
    private readonly settings: ReconcileSettings,
    private readonly clock: VirtualClock,
    private readonly venue: SimVenue,
  ) {}

  async check(accountId: string): Promise<void> {
    const snapshot = this.venue.list(accountId);
    if (snapshot.status !== 'complete') return;
    const seen = new Set(snapshot.positions.map(positionIdOf));
    const tracked = this.tracked.get(accountId) ?? new Set<string>();
    for (const id of tracked) {
      if (seen.has(id)) continue;
      if (this.strategy === 'naive') this.cancelAll(accountId, id);
      else if (!this.pendingSecondLook.some((p) => p.accountId === accountId && p.id === id)) {
        this.stats.suspectsRaised++;
        this.pendingSecondLook.push({ accountId, id, at: this.clock.now() + this.settings.confirmDelayMs });
      }
    }
    for (const id of seen) tracked.add(id);
    this.tracked.set(accountId, tracked);
  }

  async drainUntil(time: number): Promise<void> {
    this.pendingSecondLook.sort((a, b) => a.at - b.at);
    while (this.pendingSecondLook.length > 0 && (this.pendingSecondLook[0]?.at ?? time) < time) {
      const look = this.pendingSecondLook.shift();
      if (look === undefined) break;
      this.clock.time = Math.max(this.clock.time, look.at);
      const snapshot = this.venue.list(look.accountId);
      if (snapshot.status !== 'complete') continue;
      if (snapshot.positions.some((p) => positionIdOf(p) === look.id)) this.stats.suspectsCleared++;
      else this.cancelAll(look.accountId, look.id);
    }
    this.clock.time = time;
  }

  private cancelAll(accountId: string, id: string): void {
    const [symbol = '', idx = '0'] = id.split('#');
    const positionIdx = Number(idx) as 0 | 1 | 2;
    const orders = this.venue.listOrders(accountId, { symbol, positionIdx });
    if (orders.status === 'known') for (const o of orders.orders) this.venue.cancel(accountId, o.orderId);
    this.tracked.get(accountId)?.delete(id);
  }
}
