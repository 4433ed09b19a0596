/** The simulated traders whose positions open and close on the venue, the same for every strategy. */

import type { CloseKind, PositionIdx, PositionSide } from '#core/types.js';
import { hashInt, hashUnit } from './hash-random.js';
import type { SimVenue } from './venue.js';

/** How many positions each account trades, how long they live, and how many accounts hedge. */
export interface WorkloadOptions {
  readonly seed: number;
  readonly positionsPerAccount: number;
  /** Mean number of cycles a position stays open. */
  readonly meanLifetimeCycles: number;
  /** Mean number of cycles a slot stays flat before reopening. */
  readonly meanFlatCycles: number;
  /** Share of accounts in hedge mode (both legs of a symbol open). */
  readonly hedgeShare: number;
  /**
   * Every this many cycles the market crashes: a third of all open positions, on every account, hit
   * their stop-loss within that one cycle (undefined: never).
   */
  readonly crashEveryCycles?: number;
  /** Share of position slots kept without a stop by design (a hedge leg, a grid), registered as such. */
  readonly noStopShare?: number;
}

interface Slot {
  readonly symbol: string;
  readonly positionIdx: PositionIdx;
  readonly side: PositionSide;
  openedAtCycle: number | undefined;
  /** Opened without a stop by design, and registered so. */
  readonly noStop: boolean;
  stopLossId?: string | undefined;
  takeProfitId?: string;
}

/** Positions must live this many cycles: one opened and closed between two checks is never tracked. */
const MIN_LIFETIME_CYCLES = 2;

/**
 * The traders: per account a few position slots, each opened with a stop-loss and a take-profit,
 * living a random number of cycles, then closed by its SL, its TP, by hand or by liquidation, and
 * reopened a while later. Everything is keyed by (seed, account, slot, cycle), so every strategy run
 * over the same seed faces the same world.
 */
export class TraderWorld {
  private readonly slots = new Map<string, Slot[]>();

  constructor(
    private readonly venue: SimVenue,
    private readonly options: WorkloadOptions,
  ) {}

  addAccount(accountId: string): void {
    const hedge = hashUnit(this.options.seed, accountId, 'hedge') < this.options.hedgeShare;
    const slots: Slot[] = [];
    const noStop = (i: number) =>
      hashUnit(this.options.seed, accountId, i, 'no-stop') < (this.options.noStopShare ?? 0);
    for (let i = 0; i < this.options.positionsPerAccount; i++) {
      if (hedge) {
        const symbol = `H${Math.floor(i / 2)}USDT`;
        const long = i % 2 === 0;
        slots.push({
          symbol,
          positionIdx: long ? 1 : 2,
          side: long ? 'long' : 'short',
          openedAtCycle: undefined,
          noStop: noStop(i),
        });
      } else {
        slots.push({
          symbol: `S${i}USDT`,
          positionIdx: 0,
          side: i % 3 === 2 ? 'short' : 'long',
          openedAtCycle: undefined,
          noStop: noStop(i),
        });
      }
    }
    this.slots.set(accountId, slots);
    for (const slot of slots) {
      if (slot.noStop) this.venue.protection.markIntentional(accountId, slot.symbol, slot.positionIdx, true);
    }
    for (const slot of slots) this.openSlot(accountId, slot, 0);
  }

  /** Advances every account's traders by one cycle (called at the start of each cycle). */
  step(cycle: number): void {
    const { seed, meanLifetimeCycles, meanFlatCycles, crashEveryCycles } = this.options;
    const crash = crashEveryCycles !== undefined && cycle % crashEveryCycles === 0;
    for (const [accountId, slots] of this.slots) {
      slots.forEach((slot, i) => {
        if (
          crash &&
          slot.openedAtCycle !== undefined &&
          hashUnit(seed, accountId, i, cycle, 'crash') < 1 / 3
        ) {
          this.closeSlot(accountId, slot, 'stop-loss');
          return;
        }
        const draw = hashUnit(seed, accountId, i, cycle, 'life');
        if (slot.openedAtCycle === undefined) {
          if (draw < 1 / meanFlatCycles) this.openSlot(accountId, slot, cycle);
          return;
        }
        if (cycle - slot.openedAtCycle < MIN_LIFETIME_CYCLES || draw >= 1 / meanLifetimeCycles) {
          this.tendStop(accountId, slot, i, cycle);
          return;
        }
        this.closeSlot(accountId, slot, closeKind(hashInt(seed, 0, 9, accountId, i, cycle, 'kind')));
      });
    }
  }

  /**
   * The `stops-removed` faults on a live position: someone else cancels its stop, and the bot may
   * notice a missing stop after a while and place it again.
   */
  private tendStop(accountId: string, slot: Slot, i: number, cycle: number): void {
    if (slot.noStop) return;
    const { seed } = this.options;
    const faults = this.venue.faults;
    const resting = slot.stopLossId !== undefined && this.isResting(accountId, slot, slot.stopLossId);
    if (resting && slot.stopLossId !== undefined) {
      if (hashUnit(seed, accountId, i, cycle, 'stop-removed') < faults.stopRemovedPerCycle) {
        this.venue.removeByOther(slot.stopLossId);
      }
      return;
    }
    if (
      this.venue
        .protectiveOrdersOf(accountId, slot.symbol, slot.positionIdx)
        .some((o) => o.kind === 'stop-loss')
    ) {
      return; // someone (stopguard's replace mode) placed one meanwhile
    }
    const mean = faults.stopRestoreMeanCycles;
    if (mean > 0 && hashUnit(seed, accountId, i, cycle, 'stop-restored') < 1 / mean) {
      slot.stopLossId = this.venue.placeProtective(accountId, slot.symbol, slot.positionIdx, 'stop-loss');
    }
  }

  private isResting(accountId: string, slot: Slot, orderId: string): boolean {
    return this.venue
      .protectiveOrdersOf(accountId, slot.symbol, slot.positionIdx)
      .some((o) => o.orderId === orderId);
  }

  private openSlot(accountId: string, slot: Slot, cycle: number): void {
    this.venue.open(accountId, slot.symbol, slot.positionIdx, slot.side, 1 + (cycle % 3));
    slot.openedAtCycle = cycle;
    const buggy =
      hashUnit(this.options.seed, accountId, slot.symbol, slot.positionIdx, cycle, 'never-placed') <
      this.venue.faults.stopNeverPlacedProbability;
    slot.stopLossId =
      slot.noStop || buggy
        ? undefined
        : this.venue.placeProtective(accountId, slot.symbol, slot.positionIdx, 'stop-loss');
    slot.takeProfitId = this.venue.placeProtective(accountId, slot.symbol, slot.positionIdx, 'take-profit');
  }

  private closeSlot(accountId: string, slot: Slot, kind: CloseKind): void {
    // A stop that was (wrongly) cancelled cannot fire: the close then happens by hand.
    const trigger =
      kind === 'stop-loss' ? slot.stopLossId : kind === 'take-profit' ? slot.takeProfitId : undefined;
    const stillResting =
      trigger !== undefined &&
      this.venue
        .protectiveOrdersOf(accountId, slot.symbol, slot.positionIdx)
        .some((o) => o.orderId === trigger);
    if (stillResting) this.venue.close(accountId, slot.symbol, slot.positionIdx, kind, trigger);
    else this.venue.close(accountId, slot.symbol, slot.positionIdx, trigger === undefined ? kind : 'manual');
    slot.openedAtCycle = undefined;
  }
}

function closeKind(draw: number): CloseKind {
  if (draw < 4) return 'stop-loss';
  if (draw < 7) return 'take-profit';
  if (draw < 9) return 'manual';
  return 'liquidation';
}
