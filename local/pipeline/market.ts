import Big from 'big.js';
import type { RegisterMessage } from '#contracts/messages.js';
import type { SimulatorAdmin } from '#local/bybit-simulator/index.js';
import { hashInt, hashUnit } from '#local/simulation/hash-random.js';

/** Symbols the local market trades, with a starting price each. */
const MARKET: readonly (readonly [string, string])[] = [
  ['BTCUSDT', '60000'],
  ['ETHUSDT', '3000'],
  ['SOLUSDT', '150'],
  ['XRPUSDT', '0.6'],
  ['DOGEUSDT', '0.15'],
  ['ADAUSDT', '0.45'],
  ['AVAXUSDT', '35'],
  ['LINKUSDT', '15'],
];

/** Ticks before a closed symbol may be reopened on the same account. */
const REOPEN_COOLDOWN_TICKS = 30;

export interface MarketOptions {
  readonly seed: number;
  /** Open positions each account aims to hold. */
  readonly positionsPerAccount: number;
  /** Chance per account per tick that the trader closes one position by hand (or is liquidated). */
  readonly closeProbability: number;
  /** Largest price move per symbol per tick, as a fraction (moves cross SL/TP levels now and then). */
  readonly volatility: number;
  /** Where the stop-loss and take-profit rest, as a fraction of the entry price. */
  readonly protectionDistance: number;
  /** Chance that the bot (a bug) opens a position without its stop-loss: what the protection audit must find. */
  readonly stopSkipProbability: number;
}

export const defaultMarket: Omit<MarketOptions, 'seed'> = {
  positionsPerAccount: 3,
  closeProbability: 0.02,
  volatility: 0.004,
  protectionDistance: 0.01,
  stopSkipProbability: 0.08,
};

export interface MarketStats {
  opened: number;
  /**
   * Positions opened without their stop-loss, as `accountId symbol`, with the ticks each stayed open
   * (so far, for one still open): the protection audit's truth.
   */
  openedWithoutStop: { readonly position: string; ticksOpen: number; closed: boolean }[];
  closedByHand: number;
  liquidated: number;
  priceMoves: number;
}

/**
 * A seeded trading world driven through the simulator's admin interface: prices wander (and so fire
 * stop-losses and take-profits, leaving the other order orphaned), traders close positions by hand
 * now and then (leaving both orphaned), and every account reopens to its target, protects the new
 * position with an SL and a TP, and registers it as the bot does.
 */
export class MarketDriver {
  readonly stats: MarketStats = {
    opened: 0,
    openedWithoutStop: [],
    closedByHand: 0,
    liquidated: 0,
    priceMoves: 0,
  };
  private tick = 0;
  private readonly prices = new Map<string, Big>();
  /** When each account last held each symbol: a trader does not reopen a symbol the moment it closed. */
  private readonly lastHeld = new Map<string, number>();

  constructor(
    private readonly admin: SimulatorAdmin,
    private readonly accountIds: readonly string[],
    private readonly options: MarketOptions,
    private readonly register: (message: RegisterMessage) => Promise<void>,
  ) {
    for (const [symbol, price] of MARKET) {
      this.prices.set(symbol, new Big(price));
      admin.setPrice(symbol, price);
    }
  }

  /** Opens every account's starting positions, protected and registered. */
  async open(): Promise<void> {
    for (const accountId of this.accountIds) await this.topUp(accountId);
  }

  /** One market step: prices move, some traders close, every account reopens to its target. */
  async step(): Promise<void> {
    this.tick++;
    const { seed, volatility, closeProbability } = this.options;
    for (const [symbol, price] of this.prices) {
      const move = (hashUnit(seed, 'move', symbol, this.tick) * 2 - 1) * volatility;
      const next = price.times(1 + move).round(8, Big.roundHalfUp);
      this.prices.set(symbol, next);
      this.admin.setPrice(symbol, next.toString());
      this.stats.priceMoves++;
    }
    for (const bare of this.stats.openedWithoutStop.filter((b) => !b.closed)) {
      const [accountId = '', symbol] = bare.position.split(' ');
      // A symbol reopens only after a cooldown, so "not held now" means this stopless position closed.
      if (this.admin.positions(accountId).some((p) => p.symbol === symbol)) bare.ticksOpen++;
      else bare.closed = true;
    }
    for (const accountId of this.accountIds) {
      const open = this.admin.positions(accountId);
      if (open.length > 0 && hashUnit(seed, 'close', accountId, this.tick) < closeProbability) {
        const victim = open[hashInt(seed, 0, open.length - 1, 'victim', accountId, this.tick)];
        if (victim !== undefined) {
          const liquidation = hashUnit(seed, 'how', accountId, this.tick) < 0.15;
          this.admin.closePosition({
            accountId,
            symbol: victim.symbol,
            positionIdx: victim.positionIdx,
            how: liquidation ? 'liquidation' : 'manual',
          });
          if (liquidation) this.stats.liquidated++;
          else this.stats.closedByHand++;
        }
      }
      await this.topUp(accountId);
    }
  }

  private async topUp(accountId: string): Promise<void> {
    const { seed, positionsPerAccount, protectionDistance } = this.options;
    // A position the bot opened without its stop is one the protection audit must find.
    const held = new Set(this.admin.positions(accountId).map((p) => p.symbol));
    for (const symbol of held) this.lastHeld.set(`${accountId}/${symbol}`, this.tick);
    for (let attempt = 0; held.size < positionsPerAccount && attempt < MARKET.length; attempt++) {
      const pick = MARKET[hashInt(seed, 0, MARKET.length - 1, 'pick', accountId, this.tick, attempt)];
      if (pick === undefined || held.has(pick[0])) continue;
      // Reopening at once would end the old orders' orphanhood before anyone could clean them.
      const heldAt = this.lastHeld.get(`${accountId}/${pick[0]}`);
      if (heldAt !== undefined && this.tick - heldAt < REOPEN_COOLDOWN_TICKS) continue;
      const symbol = pick[0];
      const price = this.prices.get(symbol) ?? new Big(pick[1]);
      const long = hashUnit(seed, 'side', accountId, symbol, this.tick) < 0.5;
      const qty = quantityFor(price);
      this.admin.openPosition({ accountId, symbol, side: long ? 'Buy' : 'Sell', qty });
      const below = price
        .times(1 - protectionDistance)
        .round(8, Big.roundHalfUp)
        .toString();
      const above = price
        .times(1 + protectionDistance)
        .round(8, Big.roundHalfUp)
        .toString();
      if (hashUnit(seed, 'skip-stop', accountId, symbol, this.tick) < this.options.stopSkipProbability) {
        this.stats.openedWithoutStop.push({
          position: `${accountId} ${symbol}`,
          ticksOpen: 0,
          closed: false,
        });
      } else {
        this.admin.placeProtectiveOrder({
          accountId,
          symbol,
          kind: 'stop-loss',
          triggerPrice: long ? below : above,
        });
      }
      this.admin.placeProtectiveOrder({
        accountId,
        symbol,
        kind: 'take-profit',
        triggerPrice: long ? above : below,
      });
      held.add(symbol);
      this.stats.opened++;
      const position = this.admin.positions(accountId).find((p) => p.symbol === symbol);
      if (position !== undefined && position.side !== '') {
        await this.register({
          type: 'register',
          accountId,
          position: {
            symbol,
            positionIdx: position.positionIdx,
            side: position.side === 'Buy' ? 'long' : 'short',
            size: position.size,
            updatedAt: position.updatedTime,
          },
        });
      }
    }
  }
}

/** About 100 USDT of notional, in a size the symbol's price makes sensible. */
function quantityFor(price: Big): string {
  const raw = new Big(100).div(price);
  const decimals = raw.gte(1) ? 0 : Math.min(8, Math.ceil(-Math.log10(raw.toNumber())) + 1);
  const qty = raw.round(decimals, Big.roundDown);
  return qty.gt(0) ? qty.toString() : '1';
}
