/**
 * The simulated venue: positions, protective orders and fills, answered through faults to each session.
 * Longer than 400 lines because every endpoint reads and changes the same private books (positions,
 * orders, fills, ground truth) in one step; its pure parts live in the venue-*.ts files beside it.
 */

import type { StopOrderRequest } from '#core/decision.js';
import { positionId } from '#core/keys.js';
import type {
  CloseEvidence,
  CloseKind,
  ObservedPosition,
  OpenProtectiveOrders,
  PositionIdx,
  PositionSide,
  PositionSnapshot,
  ProtectiveOrderKind,
  SnapshotFailure,
  SymbolRecheck,
  TrackedPosition,
} from '#core/types.js';
import type { Clock } from '#ports/clock.js';
import {
  type CancelOutcome,
  type ExchangeSession,
  failedCancel,
  type PlaceStopOutcome,
} from '#ports/exchange.js';
import { hashInt, hashUnit } from './hash-random.js';
import type { VenueFaults } from './venue-faults.js';
import type { FalseCancel, Orphan } from './venue-ground-truth.js';
import { historyAnswers } from './venue-history.js';
import { VenueLimits } from './venue-limits.js';
import { OrderBook } from './venue-orders.js';
import { ProtectionTruth } from './venue-protection.js';
import {
  observed,
  stripAccount,
  type VenueCalls,
  type VenueFill,
  type VenueOrder,
  type VenuePosition,
} from './venue-records.js';

/** A venue is built with its faults, so they can be imported along with it. */

/** Calls the venue answered, by endpoint: the exchange cost of a strategy. */

/**
 * A venue model at the level of the domain types, for the deterministic simulation: the same faults
 * as the HTTP Bybit simulator, without HTTP or Bybit's wire format, so millions of account-cycles
 * run in minutes. It keeps the ground truth stopguard is judged by: false cancels and orphans.
 */
export class SimVenue {
  private readonly positions = new Map<string, Map<string, VenuePosition>>();
  private readonly orders = new OrderBook();
  private readonly fills = new Map<string, VenueFill[]>();
  private readonly sequences = new Map<string, number>();
  private readonly droppedUntil = new Map<string, number>();
  /** Per account, the last few positions that closed leaving orders behind: what a reopen picks from. */
  private readonly recentlyOrphaned = new Map<string, { symbol: string; positionIdx: PositionIdx }[]>();
  private nextId = 1;
  private callIndex = 0;

  readonly falseCancels: FalseCancel[] = [];
  readonly orphans = new Map<string, Orphan>();
  readonly calls: VenueCalls = {
    list: 0,
    recheck: 0,
    history: 0,
    closedPnl: 0,
    orders: 0,
    cancel: 0,
    place: 0,
  };
  /** Positions closed with protective orders left behind (the orphans' positions). */
  closes = 0;
  /** Positions reopened by the `reopenBetweenCalls` fault. */
  reopens = 0;
  /** The rate limits of the accounts and of the fleet's address. */
  readonly limits = new VenueLimits();
  /** Which live positions lack a stop, and whether stopguard's alarms and placed stops were right. */
  readonly protection = new ProtectionTruth();
  private readonly placedByLinkId = new Map<string, string>();
  /** Called when a position opens or grows: the bot registering it with stopguard. */
  onOpen: ((accountId: string, position: ObservedPosition) => void) | undefined;

  constructor(
    private readonly seed: number,
    private readonly clock: Clock,
    public faults: VenueFaults,
  ) {}

  open(accountId: string, symbol: string, positionIdx: PositionIdx, side: PositionSide, size: number): void {
    const now = this.clock.now();
    const existing = this.positionsOf(accountId).get(positionId(symbol, positionIdx));
    if (existing === undefined) this.markReopened(accountId, symbol, positionIdx, now);
    const sequence = this.bumpSequence(accountId, symbol);
    if (existing !== undefined) {
      existing.size += size;
      existing.updatedAt = now;
      existing.sequence = sequence;
    } else {
      this.positionsOf(accountId).set(positionId(symbol, positionIdx), {
        symbol,
        positionIdx,
        side,
        size,
        updatedAt: now,
        sequence,
      });
    }
    this.recordFill(accountId, symbol, positionIdx, {
      closedQty: '0',
      openedQty: String(size),
      kind: 'manual',
      sequence,
      side: (existing?.side ?? side) === 'long' ? 'Buy' : 'Sell',
    });
    const position = this.positionsOf(accountId).get(positionId(symbol, positionIdx));
    if (position !== undefined) this.onOpen?.(accountId, observed(position));
  }

  placeProtective(
    accountId: string,
    symbol: string,
    positionIdx: PositionIdx,
    kind: ProtectiveOrderKind,
  ): string {
    const orderId = `ord-${this.nextId++}`;
    this.orders.set({ accountId, orderId, symbol, positionIdx, kind, createdAt: this.clock.now() });
    return orderId;
  }

  /** An order cancelled by someone other than stopguard (the user, another tool): no call, no orphan. */
  removeByOther(orderId: string): void {
    this.orders.delete(orderId);
  }

  /** Closes the whole position; its remaining protective orders become orphans. */
  close(
    accountId: string,
    symbol: string,
    positionIdx: PositionIdx,
    kind: CloseKind,
    triggeredOrderId?: string,
  ): void {
    const position = this.positionsOf(accountId).get(positionId(symbol, positionIdx));
    if (position === undefined) return;
    const now = this.clock.now();
    const sequence = this.bumpSequence(accountId, symbol);
    this.positionsOf(accountId).delete(positionId(symbol, positionIdx));
    this.recordFill(accountId, symbol, positionIdx, {
      closedQty: String(position.size),
      openedQty: '0',
      kind,
      sequence,
      side: position.side === 'long' ? 'Sell' : 'Buy',
      ...(triggeredOrderId === undefined ? {} : { orderId: triggeredOrderId }),
    });
    if (triggeredOrderId !== undefined) this.orders.delete(triggeredOrderId);
    let orphaned = 0;
    for (const order of this.orders.ofAccount(accountId)) {
      if (order.symbol === symbol && order.positionIdx === positionIdx) {
        this.orphans.set(order.orderId, {
          accountId,
          orderId: order.orderId,
          symbol,
          positionIdx,
          orphanedAt: now,
        });
        orphaned++;
      }
    }
    if (orphaned > 0) {
      this.closes++;
      const recent = this.recentlyOrphaned.get(accountId) ?? [];
      recent.push({ symbol, positionIdx });
      if (recent.length > 8) recent.shift();
      this.recentlyOrphaned.set(accountId, recent);
    }
  }

  isOpen(accountId: string, symbol: string, positionIdx: PositionIdx): boolean {
    return this.positionsOf(accountId).has(positionId(symbol, positionIdx));
  }

  openPositions(accountId: string): readonly { symbol: string; positionIdx: PositionIdx }[] {
    return [...this.positionsOf(accountId).values()];
  }

  protectiveOrdersOf(accountId: string, symbol: string, positionIdx: PositionIdx): readonly VenueOrder[] {
    return this.orders.ofPosition(accountId, symbol, positionIdx);
  }

  /** Orphans not cleaned yet (those adopted by a reopened position included). */
  pendingOrphans(): Orphan[] {
    return [...this.orphans.values()].filter((o) => o.cleanedAt === undefined && this.orders.has(o.orderId));
  }

  private markReopened(accountId: string, symbol: string, positionIdx: PositionIdx, now: number): void {
    for (const orphan of this.orphans.values()) {
      if (
        orphan.accountId === accountId &&
        orphan.symbol === symbol &&
        orphan.positionIdx === positionIdx &&
        orphan.cleanedAt === undefined &&
        orphan.reopenedAt === undefined
      ) {
        orphan.reopenedAt = now;
      }
    }
  }

  session(accountId: string): ExchangeSession {
    // A reopen may land before any look; between the last look and the cancels is the one round trip
    // no reconciler can close (docs/RECONCILIATION.md), so none is injected before a cancel.
    const reopening = <T>(call: () => T): T => {
      this.maybeReopen(accountId);
      return call();
    };
    return {
      fetchOpenPositions: async () => reopening(() => this.list(accountId)),
      recheckSymbol: async (symbol) => reopening(() => this.recheck(accountId, symbol)),
      fetchPositionChanges: async (positions) => reopening(() => this.history(accountId, positions)),
      fetchProtectiveOrders: async () => reopening(() => this.listOrders(accountId)),
      cancelOrder: async (_symbol, orderId) => this.cancel(accountId, orderId),
      placeStop: async (request) => this.placeStop(accountId, request),
    };
  }

  /**
   * Reopens one of the account's recently orphaned positions, with the `reopenBetweenCalls` probability.
   * The session calls it before each look; the simulation harness also calls it before the cap and the
   * claim renewal, so that a reopen may land between any two steps of a confirmation.
   */
  maybeReopen(accountId: string): void {
    const p = this.faults.reopenBetweenCalls;
    if (p <= 0 || hashUnit(this.seed, accountId, 'reopen', this.clock.now(), this.callIndex++) >= p) return;
    const closed = (this.recentlyOrphaned.get(accountId) ?? []).filter(
      (c) => !this.isOpen(accountId, c.symbol, c.positionIdx),
    );
    const pick =
      closed[
        hashInt(this.seed, 0, Math.max(0, closed.length - 1), accountId, 'reopen-who', this.clock.now())
      ];
    if (pick === undefined) return;
    this.open(accountId, pick.symbol, pick.positionIdx, pick.positionIdx === 2 ? 'short' : 'long', 1);
    this.placeProtective(accountId, pick.symbol, pick.positionIdx, 'stop-loss');
    this.reopens++;
  }

  // ---- the exchange, as the session sees it ----

  list(accountId: string): PositionSnapshot {
    this.calls.list++;
    this.applyFunding(accountId);
    const now = this.clock.now();
    const snapshotId = `snap-${this.nextId++}`;
    const failure = this.failure(accountId, 'list');
    const open = [...this.positionsOf(accountId).values()];
    const dropped = this.droppedFromList(accountId, open, now);
    const stopped = this.orders.stoppedPositions(accountId);
    const positions = open
      .filter((p) => !dropped.has(positionId(p.symbol, p.positionIdx)))
      .map((p) => observed(p, stopped.has(positionId(p.symbol, p.positionIdx))));
    if (failure !== undefined)
      return { status: 'unknown', snapshotId, fetchedAt: now, pages: 1, positions: [], failure };
    if (
      open.length > 1 &&
      hashUnit(this.seed, accountId, 'truncate', now) < this.faults.truncationProbability
    ) {
      // Pages after the first come back empty. The session cannot tell that from Bybit's own end of a
      // list (a last-page cursor leading to an empty page), so it reports a complete, short snapshot.
      return { status: 'complete', snapshotId, fetchedAt: now, pages: 2, positions: positions.slice(0, 1) };
    }
    return { status: 'complete', snapshotId, fetchedAt: now, pages: 1, positions };
  }

  private droppedFromList(accountId: string, open: readonly VenuePosition[], now: number): Set<string> {
    const dropped = new Set<string>();
    for (const p of open) {
      const id = `${accountId}/${positionId(p.symbol, p.positionIdx)}`;
      if ((this.droppedUntil.get(id) ?? -1) >= now) dropped.add(positionId(p.symbol, p.positionIdx));
    }
    if (open.length > 0 && hashUnit(this.seed, accountId, 'drop', now) < this.faults.dropProbability) {
      const k = hashInt(this.seed, 1, Math.max(1, this.faults.maxDropped), accountId, 'drop-k', now);
      for (let i = 0; i < k; i++) {
        const victim = open[hashInt(this.seed, 0, open.length - 1, accountId, 'drop-who', now, i)];
        if (victim === undefined) continue;
        dropped.add(positionId(victim.symbol, victim.positionIdx));
        if (this.faults.correlatedDropMs > 0) {
          this.droppedUntil.set(
            `${accountId}/${positionId(victim.symbol, victim.positionIdx)}`,
            now + this.faults.correlatedDropMs,
          );
        }
      }
    }
    return dropped;
  }

  /** A by-symbol look: every leg, flat ones listed with size 0; a lying answer omits the open ones. */
  recheck(accountId: string, symbol: string): SymbolRecheck {
    this.applyFunding(accountId);
    this.calls.recheck++;
    const now = this.clock.now();
    const failure = this.failure(accountId, 'recheck');
    if (failure !== undefined) return { status: 'unknown', checkedAt: now, open: [], failure };
    const legs = ([0, 1, 2] as const).flatMap((idx) => {
      const position = this.positionsOf(accountId).get(positionId(symbol, idx));
      return position === undefined ? [] : [position];
    });
    const flat = ([0, 1, 2] as const).filter((idx) => !legs.some((p) => p.positionIdx === idx));
    const lies =
      hashUnit(this.seed, accountId, 'recheck-lie', symbol, now) < this.faults.recheckLieProbability;
    return { status: 'listed', checkedAt: now, open: lies ? [] : legs.map((p) => observed(p)), flat };
  }

  /** One history query for several positions of an account, answered per position. */
  history(accountId: string, positions: readonly TrackedPosition[]): ReadonlyMap<string, CloseEvidence> {
    this.calls.history++;
    const failure = this.failure(accountId, 'history');
    const p = this.faults.blankClosedSizeProbability;
    const answered = historyAnswers({
      positions,
      now: this.clock.now(),
      fillsOf: (symbol, idx) => this.fills.get(`${accountId}/${positionId(symbol, idx)}`) ?? [],
      ...(failure === undefined ? {} : { failure }),
      ...(p > 0 ? { blank: (f: VenueFill) => hashUnit(this.seed, 'blank', f.id) < p } : {}),
    });
    if (answered.readClosedPnl) this.calls.closedPnl++;
    return answered.answers;
  }

  /** The account's resting protective orders, all of them or those of one position (one listing). */
  listOrders(accountId: string, of?: { symbol: string; positionIdx: PositionIdx }): OpenProtectiveOrders {
    this.calls.orders++;
    const failure = this.failure(accountId, 'orders');
    if (failure !== undefined) return { status: 'unknown', failure };
    const orders =
      of === undefined
        ? this.orders.ofAccount(accountId)
        : this.protectiveOrdersOf(accountId, of.symbol, of.positionIdx);
    return { status: 'known', orders: orders.map(stripAccount) };
  }

  cancel(accountId: string, orderId: string): CancelOutcome {
    this.calls.cancel++;
    const now = this.clock.now();
    const failure = this.failure(accountId, 'cancel');
    if (failure !== undefined) return failedCancel(orderId, failure, true);
    const order = this.orders.get(orderId);
    if (order === undefined || order.accountId !== accountId) {
      return { status: 'already-gone', orderId, detail: 'order not exists or too late to cancel' };
    }
    if (this.isOpen(accountId, order.symbol, order.positionIdx)) {
      this.falseCancels.push({
        accountId,
        symbol: order.symbol,
        positionIdx: order.positionIdx,
        orderId,
        at: now,
      });
    }
    this.orders.delete(orderId);
    const orphan = this.orphans.get(orderId);
    if (orphan !== undefined) orphan.cleanedAt = now;
    return { status: 'cancelled', orderId };
  }

  /** Replace mode's stop: a stop-loss order on the position, once per `orderLinkId`. */
  placeStop(accountId: string, request: StopOrderRequest): PlaceStopOutcome {
    this.calls.place++;
    const failure = this.failure(accountId, 'place');
    if (failure !== undefined) return { status: 'failed', detail: failure.detail, reason: failure.reason };
    const link = `${accountId}|${request.orderLinkId}`;
    if (this.placedByLinkId.has(link))
      return { status: 'already-placed', detail: 'orderLinkId is duplicate' };
    const { symbol, positionIdx } = request;
    const open = this.isOpen(accountId, symbol, positionIdx);
    this.protection.placed(
      this.orders.stoppedPositions(accountId).has(positionId(symbol, positionIdx)),
      open,
    );
    const orderId = this.placeProtective(accountId, symbol, positionIdx, 'stop-loss');
    this.placedByLinkId.set(link, orderId);
    return { status: 'placed', orderId };
  }

  /** Updates the protection truth after the traders moved (once per cycle). */
  observeProtection(accountIds: readonly string[]): void {
    const now = this.clock.now();
    for (const accountId of accountIds) {
      this.protection.observe(
        accountId,
        this.openPositions(accountId),
        this.orders.stoppedPositions(accountId),
        now,
      );
    }
  }

  // ---- internals ----

  private failure(accountId: string, endpoint: string): SnapshotFailure | undefined {
    const limited = this.limits.admit(this.faults, accountId, this.clock.now());
    if (limited !== undefined) return limited;
    if (this.faults.failureProbability <= 0) return undefined;
    const draw = hashUnit(this.seed, accountId, endpoint, this.clock.now(), this.callIndex++);
    return draw < this.faults.failureProbability
      ? { reason: 'http-error', detail: 'HTTP 503 (simulated)' }
      : undefined;
  }

  private recordFill(
    accountId: string,
    symbol: string,
    positionIdx: PositionIdx,
    fill: Pick<VenueFill, 'closedQty' | 'openedQty' | 'kind' | 'sequence' | 'orderId' | 'side'>,
  ): void {
    const now = this.clock.now();
    const key = `${accountId}/${positionId(symbol, positionIdx)}`;
    const lag =
      this.faults.historyLagMs > 0 ? hashInt(this.seed, 0, this.faults.historyLagMs, key, 'lag', now) : 0;
    const list = this.fills.get(key) ?? [];
    list.push({
      ...fill,
      id: `fill-${this.nextId++}`,
      source: 'execution',
      time: now,
      accountId,
      symbol,
      positionIdx,
      visibleAt: now + lag,
    });
    // Old history is never asked for again: keep the tail only, so memory stays flat over long runs.
    if (list.length > 16) list.splice(0, list.length - 16);
    this.fills.set(key, list);
  }

  /**
   * Funding at every `fundingEveryMs` boundary moves each open position's sequence and update time,
   * with no fill (as a public recording of Bybit shows), applied when the account is next looked at.
   */
  private applyFunding(accountId: string): void {
    const every = this.faults.fundingEveryMs;
    if (every <= 0) return;
    const epoch = Math.floor(this.clock.now() / every);
    for (const p of this.positionsOf(accountId).values()) {
      if (Math.floor(p.updatedAt / every) >= epoch) continue;
      p.sequence = this.bumpSequence(accountId, p.symbol);
      p.updatedAt = epoch * every;
    }
  }

  private bumpSequence(accountId: string, symbol: string): number {
    const key = `${accountId}/${symbol}`;
    const next = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, next);
    return next;
  }

  private positionsOf(accountId: string): Map<string, VenuePosition> {
    let map = this.positions.get(accountId);
    if (map === undefined) {
      map = new Map();
      this.positions.set(accountId, map);
    }
    return map;
  }
}
