/** The simulated venue's resting orders, indexed by account: a list or a close reads one account's. */

import { positionId } from '#core/keys.js';
import type { PositionIdx } from '#core/types.js';
import type { VenueOrder } from './venue-records.js';

export class OrderBook {
  private readonly byId = new Map<string, VenueOrder>();
  private readonly byAccount = new Map<string, Map<string, VenueOrder>>();

  set(order: VenueOrder): void {
    this.byId.set(order.orderId, order);
    let account = this.byAccount.get(order.accountId);
    if (account === undefined) {
      account = new Map();
      this.byAccount.set(order.accountId, account);
    }
    account.set(order.orderId, order);
  }

  get(orderId: string): VenueOrder | undefined {
    return this.byId.get(orderId);
  }

  has(orderId: string): boolean {
    return this.byId.has(orderId);
  }

  delete(orderId: string): void {
    const order = this.byId.get(orderId);
    if (order === undefined) return;
    this.byId.delete(orderId);
    this.byAccount.get(order.accountId)?.delete(orderId);
  }

  ofAccount(accountId: string): readonly VenueOrder[] {
    return [...(this.byAccount.get(accountId)?.values() ?? [])];
  }

  ofPosition(accountId: string, symbol: string, positionIdx: PositionIdx): readonly VenueOrder[] {
    return this.ofAccount(accountId).filter((o) => o.symbol === symbol && o.positionIdx === positionIdx);
  }

  /** Positions of the account (`positionId`) with a resting stop-loss: what its list shows as protected. */
  stoppedPositions(accountId: string): ReadonlySet<string> {
    const stopped = new Set<string>();
    for (const o of this.byAccount.get(accountId)?.values() ?? []) {
      if (o.kind === 'stop-loss') stopped.add(positionId(o.symbol, o.positionIdx));
    }
    return stopped;
  }
}
