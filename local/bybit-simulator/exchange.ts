/** The simulated exchange's public operations, over the matching engine and the ground-truth ledger. */

import Big from 'big.js';
import {
  type AccountInfo,
  type AccountState,
  byPositionKey,
  flatPosition,
  positionIdxForExisting,
  positionIdxForOpen,
  positionKey,
} from './account-state.js';
import { type FundingSchedule, fundingRate, MIN_FUNDING_EVERY_MS } from './funding.js';
import { type FalseCancel, GroundTruthLedger, type JudgedCancel, type OrphanRecord } from './ground-truth.js';
import { InstrumentBook } from './instruments.js';
import { MatchingEngine, type NewOrderFields } from './matching-engine.js';
import { positiveDecimal, SimRejection } from './rejection.js';
import {
  type ApiOrderInput,
  type CancelResult,
  type ClosePositionInput,
  type CreateType,
  type ExecType,
  type OpenPositionInput,
  type PositionIdx,
  type ProtectiveOrderInput,
  RESTING_STATUSES,
  type SettleFundingInput,
  type Side,
  type SimAccountSpec,
  type SimClosedPnl,
  type SimExecution,
  type SimOrder,
  type SimPosition,
} from './types.js';

/** Bybit's retCode for an `orderLinkId` the account already used. */
const DUPLICATE_ORDER_LINK_ID = 110072;

const opposite = (side: Side): Side => (side === 'Buy' ? 'Sell' : 'Buy');

/**
 * The simulated exchange as its callers (the HTTP endpoints, the admin API, tests) see it: accounts,
 * prices, order entry, cancels and queries, with no HTTP, no randomness and no faults. It is what is
 * *really* true at any moment, and it keeps the ground truth (false cancels, orphans) every reconciler
 * is judged by. Every time comes from the injected clock.
 */
export class SimExchange {
  private readonly truth = new GroundTruthLedger();
  private readonly engine: MatchingEngine;
  /** Every symbol with a price is listed; its tick is what `POST /v5/order/create` triggers must sit on. */
  readonly instruments = new InstrumentBook((symbol) => this.engine.price(symbol));
  private readonly funding: { readonly everyMs: number; readonly rate: string } | undefined;
  /** The last funding time settled by the schedule. */
  private lastFundingAt = 0;

  /**
   * `funding`: settle funding on a schedule. The clock only moves when its owner moves it, so due
   * fundings are settled, each at its own time, before the next operation that trades, moves the
   * market or reads positions or executions: nothing can be observed between a funding time and
   * its settlement.
   */
  constructor(
    private readonly clock: () => number,
    funding?: FundingSchedule,
  ) {
    this.engine = new MatchingEngine(clock, this.truth);
    if (funding !== undefined) {
      if (!(Number.isFinite(funding.everyMs) && funding.everyMs >= MIN_FUNDING_EVERY_MS)) {
        throw new Error(`funding every ${funding.everyMs} ms: must be >= ${MIN_FUNDING_EVERY_MS}`);
      }
      const rate = fundingRate(funding.rate);
      this.funding = { everyMs: funding.everyMs, rate };
      this.lastFundingAt = Math.floor(clock() / funding.everyMs) * funding.everyMs;
    }
  }

  addAccount(spec: SimAccountSpec): void {
    this.engine.addAccount(spec);
  }

  accountIds(): string[] {
    return this.engine.accountIds();
  }

  /** The account an API key belongs to, secret included: for request verification only, never for output. */
  accountByApiKey(apiKey: string): AccountInfo | undefined {
    return this.engine.accountByApiKey(apiKey);
  }

  price(symbol: string): string | undefined {
    return this.engine.price(symbol);
  }

  /** Moves the market; resting orders whose trigger (or limit) the new price reaches fill, in placement order. */
  setPrice(symbol: string, price: string): void {
    this.settleDueFunding();
    this.engine.setPrice(symbol, price);
  }

  /** Market-buys or -sells `qty`: opens, adds to, or (one-way, opposite side) reduces and flips a position. */
  openPosition(input: OpenPositionInput): string {
    this.settleDueFunding();
    const account = this.engine.account(input.accountId);
    const qty = positiveDecimal(input.qty, 'qty');
    const idx = positionIdxForOpen(account, input.side, input.positionIdx);
    const price =
      input.price === undefined ? this.engine.price(input.symbol) : positiveDecimal(input.price, 'price');
    if (price === undefined) throw new Error(`no price for ${input.symbol}: setPrice first or pass price`);
    this.engine.initialisePrice(input.symbol, price);
    const order = this.engine.newOrder(account, {
      symbol: input.symbol,
      positionIdx: idx,
      side: input.side,
      kind: 'market',
      orderType: 'Market',
      createType: 'CreateByUser',
      qty,
      reduceOnly: false,
    });
    this.engine.fill(account, order, qty, price, 'Trade', false);
    return order.orderId;
  }

  /** Rests a reduce-only protective order on an open position; returns its orderId. */
  placeProtectiveOrder(input: ProtectiveOrderInput): string {
    const account = this.engine.account(input.accountId);
    const idx = positionIdxForExisting(account, input.symbol, input.positionIdx);
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '') {
      throw new Error(`${input.accountId} has no open position ${input.symbol}#${idx} to protect`);
    }
    const trigger = positiveDecimal(input.triggerPrice, 'triggerPrice');
    const qty = input.qty === undefined ? undefined : positiveDecimal(input.qty, 'qty');
    const isLong = position.side === 'Buy';
    // SL and trailing stops fire against the position, TP and reduce-only limits in its favour.
    const adverse: 1 | 2 = isLong ? 2 : 1;
    const favourable: 1 | 2 = isLong ? 1 : 2;
    const full = qty === undefined;
    const common = {
      symbol: input.symbol,
      positionIdx: idx,
      side: opposite(position.side),
      kind: input.kind,
      qty: qty ?? position.size,
      reduceOnly: true,
    } as const;
    let fields: NewOrderFields;
    switch (input.kind) {
      case 'stop-loss':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: full ? 'StopLoss' : 'PartialStopLoss',
          tpslMode: full ? 'Full' : 'Partial',
          createType: full ? 'CreateByStopLoss' : 'CreateByPartialStopLoss',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: adverse,
        };
        break;
      case 'take-profit':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: full ? 'TakeProfit' : 'PartialTakeProfit',
          tpslMode: full ? 'Full' : 'Partial',
          createType: full ? 'CreateByTakeProfit' : 'CreateByPartialTakeProfit',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: favourable,
        };
        break;
      case 'trailing-stop':
        fields = {
          ...common,
          orderType: 'Market',
          stopOrderType: 'TrailingStop',
          tpslMode: full ? 'Full' : 'Partial',
          createType: 'CreateByTrailingStop',
          triggerPrice: trigger,
          closeOnTrigger: true,
          crossDirection: adverse,
        };
        break;
      case 'reduce-only-limit':
        fields = {
          ...common,
          orderType: 'Limit',
          price: trigger,
          tpslMode: full ? 'Full' : 'Partial',
          closeOnTrigger: false,
          crossDirection: favourable,
        };
        break;
    }
    return this.engine.rest(account, fields).orderId;
  }

  /** Closes all or part of an open position by a market order, a liquidation or an ADL. */
  closePosition(input: ClosePositionInput): string {
    this.settleDueFunding();
    const account = this.engine.account(input.accountId);
    const idx = positionIdxForExisting(account, input.symbol, input.positionIdx);
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '') {
      throw new Error(`${input.accountId} has no open position ${input.symbol}#${idx} to close`);
    }
    const qty = input.qty === undefined ? position.size : positiveDecimal(input.qty, 'qty');
    if (new Big(qty).gt(position.size)) {
      throw new Error(`cannot close ${qty} of ${input.symbol}#${idx}: size is ${position.size}`);
    }
    const price = this.engine.price(input.symbol) ?? position.avgPrice;
    const how = input.how ?? 'manual';
    const createType: CreateType =
      how === 'liquidation'
        ? 'CreateByTakeOver_PassThrough'
        : how === 'adl'
          ? 'CreateByAdl_PassThrough'
          : 'CreateByUser';
    const execType: ExecType = how === 'liquidation' ? 'BustTrade' : how === 'adl' ? 'AdlTrade' : 'Trade';
    const order = this.engine.newOrder(account, {
      symbol: input.symbol,
      positionIdx: idx,
      side: opposite(position.side),
      kind: 'market',
      orderType: 'Market',
      createType,
      qty,
      reduceOnly: true,
    });
    this.engine.fill(account, order, qty, price, execType, false);
    return order.orderId;
  }

  /** `POST /v5/order/create`, restricted to what a position's owner needs: market orders and reduce-only resting orders. */
  placeApiOrder(accountId: string, input: ApiOrderInput): string {
    this.settleDueFunding();
    const account = this.engine.account(accountId);
    positiveDecimal(input.qty, 'qty');
    if (account.positionMode === 'hedge' && (input.positionIdx === undefined || input.positionIdx === 0)) {
      throw new SimRejection(10001, 'params error: position idx not match position mode');
    }
    if (account.positionMode === 'one-way' && input.positionIdx !== undefined && input.positionIdx !== 0) {
      throw new SimRejection(10001, 'params error: position idx not match position mode');
    }
    const protective = input.reduceOnly || input.closeOnTrigger;
    const linkId = input.orderLinkId;
    if (linkId !== undefined && [...account.ordersById.values()].some((o) => o.orderLinkId === linkId)) {
      throw new SimRejection(DUPLICATE_ORDER_LINK_ID, 'OrderLinkedID is duplicate');
    }
    if (input.triggerPrice === undefined && input.orderType === 'Market') {
      if (!protective) {
        return this.openPosition({
          accountId,
          symbol: input.symbol,
          side: input.side,
          qty: input.qty,
          ...(input.positionIdx === undefined ? {} : { positionIdx: input.positionIdx }),
        });
      }
      const position = this.reducible(account, input);
      const qty = new Big(input.qty).gt(position.size) ? position.size : input.qty;
      return this.closePosition({ accountId, symbol: input.symbol, positionIdx: position.positionIdx, qty });
    }
    if (!protective) {
      throw new SimRejection(
        10001,
        'params error: the simulator rests only reduce-only or close-on-trigger orders',
      );
    }
    const position = this.reducible(account, input);
    const isLong = position.side === 'Buy';
    if (input.triggerPrice === undefined) {
      const price = positiveDecimal(input.price, 'price');
      return this.engine.rest(account, {
        symbol: input.symbol,
        positionIdx: position.positionIdx,
        side: input.side,
        kind: 'reduce-only-limit',
        orderType: 'Limit',
        price,
        tpslMode: 'Partial',
        qty: input.qty,
        reduceOnly: true,
        closeOnTrigger: false,
        crossDirection: isLong ? 1 : 2,
      }).orderId;
    }
    const trigger = positiveDecimal(input.triggerPrice, 'triggerPrice');
    if (input.triggerDirection !== 1 && input.triggerDirection !== 2) {
      throw new SimRejection(10001, 'params error: triggerDirection must be 1 or 2 for a conditional order');
    }
    const adverse = (isLong ? 2 : 1) === input.triggerDirection;
    return this.engine.rest(account, {
      symbol: input.symbol,
      positionIdx: position.positionIdx,
      side: input.side,
      kind: adverse ? 'stop-loss' : 'take-profit',
      orderType: input.orderType,
      ...(input.orderType === 'Limit' ? { price: positiveDecimal(input.price, 'price') } : {}),
      stopOrderType: 'Stop',
      tpslMode: '',
      createType: 'CreateByStopOrder',
      triggerPrice: trigger,
      qty: input.qty,
      reduceOnly: input.reduceOnly,
      closeOnTrigger: input.closeOnTrigger,
      crossDirection: input.triggerDirection,
      ...(linkId === undefined ? {} : { orderLinkId: linkId }),
    }).orderId;
  }

  /**
   * Cancels a resting order, judging it against the truth of this instant: a protective order of a
   * position with size > 0 is a false cancel; an orphan's cancel is a cleanup.
   */
  cancelOrder(accountId: string, symbol: string, orderId: string): CancelResult {
    this.settleDueFunding();
    const account = this.engine.account(accountId);
    const order = account.ordersById.get(orderId);
    if (!order || order.symbol !== symbol) return { status: 'not-found' };
    if (!RESTING_STATUSES.has(order.orderStatus)) return { status: 'not-resting', order: { ...order } };
    const now = this.clock();
    const position = account.positions.get(positionKey(order.symbol, order.positionIdx));
    const liveSize = position?.size ?? '0';
    this.engine.retire(order, 'CancelByUser', now);
    this.truth.judgeCancel(order, liveSize, now);
    return { status: 'cancelled', order: { ...order } };
  }

  /** The account's open positions (size > 0), by symbol then index. */
  openPositions(accountId: string): SimPosition[] {
    this.settleDueFunding();
    return [...this.engine.account(accountId).positions.values()]
      .filter((p) => p.side !== '')
      .sort(byPositionKey)
      .map((p) => ({ ...p }));
  }

  /** What Bybit answers for one symbol: every index of the account's mode, flat ones included. */
  positionsForSymbol(accountId: string, symbol: string): SimPosition[] {
    this.settleDueFunding();
    const account = this.engine.account(accountId);
    const indexes: readonly PositionIdx[] = account.positionMode === 'hedge' ? [1, 2] : [0];
    return indexes.map((idx) => ({
      ...(account.positions.get(positionKey(symbol, idx)) ?? flatPosition(accountId, symbol, idx)),
    }));
  }

  /** Every order of the account, in placement order, whatever its state. */
  orders(accountId: string): SimOrder[] {
    return this.engine.account(accountId).orders.map((o) => ({ ...o }));
  }

  /** Resting orders (Untriggered conditionals and New limits). */
  openOrders(accountId: string): SimOrder[] {
    return this.orders(accountId).filter((o) => RESTING_STATUSES.has(o.orderStatus));
  }

  executions(accountId: string): SimExecution[] {
    this.settleDueFunding();
    return [...this.engine.account(accountId).executions];
  }

  closedPnl(accountId: string): SimClosedPnl[] {
    this.settleDueFunding();
    return [...this.engine.account(accountId).closedPnl];
  }

  /**
   * Settles funding now on every open position (of `accountId`, or of every account): each position's
   * `seq` takes the symbol's next cross sequence and its `updatedTime` the current time, with no
   * trade, and a `Funding` row is written to its execution history. Returns those rows.
   */
  settleFunding(input: SettleFundingInput = {}): SimExecution[] {
    this.settleDueFunding();
    const rate = fundingRate(input.rate);
    const accountIds = input.accountId === undefined ? this.engine.accountIds() : [input.accountId];
    return this.engine.settleFunding(accountIds, rate, this.clock());
  }

  falseCancels(): FalseCancel[] {
    return this.truth.falseCancels();
  }

  orphans(): OrphanRecord[] {
    return this.truth.orphans();
  }

  cancels(): JudgedCancel[] {
    return this.truth.cancels();
  }

  /** The scheduled fundings whose time has come, each settled at its own time. */
  private settleDueFunding(): void {
    if (this.funding === undefined) return;
    const now = this.clock();
    while (this.lastFundingAt + this.funding.everyMs <= now) {
      this.lastFundingAt += this.funding.everyMs;
      this.engine.settleFunding(this.engine.accountIds(), this.funding.rate, this.lastFundingAt);
    }
  }

  /** The position a reduce-only API order would reduce; refuses (110017) when there is none. */
  private reducible(account: AccountState, input: ApiOrderInput): SimPosition {
    const idx: PositionIdx = account.positionMode === 'hedge' ? (input.positionIdx ?? 1) : 0;
    const position = account.positions.get(positionKey(input.symbol, idx));
    if (!position || position.side === '' || position.side === input.side) {
      throw new SimRejection(110017, 'current position is zero, cannot fix reduce-only order qty');
    }
    return position;
  }
}
