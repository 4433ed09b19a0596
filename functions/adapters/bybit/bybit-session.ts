// The REST client's own module, not the package index: the index also loads the websocket clients
// (and `ws`), which the worker never uses, into a bundle that must stay under 1 MB.
import { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import type * as z from 'zod';
import type { StopOrderRequest } from '#core/decision.js';
import { positionIdOf } from '#core/keys.js';
import type {
  ObservedPosition,
  OpenProtectiveOrders,
  PositionIdx,
  PositionSnapshot,
  ProtectiveOrder,
  SnapshotFailure,
  SymbolRecheck,
  TrackedPosition,
} from '#core/types.js';
import { type Clock, systemClock } from '#ports/clock.js';
import { type CancelOutcome, type ExchangeSession, failedCancel } from '#ports/exchange.js';
import type { IdSource } from '#ports/ids.js';
import { closeEvidenceOf, freshHistoryMemory } from './close-evidence.js';
import { isRetryable, ORDER_GONE_CODES, type Redactor, redactorFor } from './failures.js';
import { priceFilterCache } from './instruments.js';
import { type HistoryWindow, toObservedPosition, toProtectiveOrder } from './mapping.js';
import { type BybitEndpoint, EndpointPacer } from './pacing.js';
import { type CollectedPages, collectPages } from './pagination.js';
import {
  type BybitClosedPnl,
  type BybitExecution,
  type BybitOrder,
  type BybitPosition,
  cancelResultSchema,
  closedPnlEntrySchema,
  executionEntrySchema,
  orderEntrySchema,
  positionEntrySchema,
} from './schemas.js';
import { placeStopOrder } from './stop-orders.js';
import { pacedSender, readListPage } from './transport.js';

export interface BybitSessionConfig {
  /** Mainnet, testnet, demo, or the local simulator (e.g. `http://127.0.0.1:4010`). */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Default `linear`. */
  readonly category?: 'linear' | 'inverse';
  /**
   * Settle coins to list positions for. The bulk list without `symbol` needs `settleCoin` for
   * linear (docs/v5/position/position.mdx); default `['USDT']`. For inverse the list works without
   * it, and an empty list (the inverse default) means one listing without `settleCoin`.
   */
  readonly settleCoins?: readonly string[];
  /** Bybit's `recv_window`; default 5000. */
  readonly recvWindowMs?: number;
  /** Per HTTP request; default 10000. */
  readonly requestTimeoutMs?: number;
  /** Most pages one listing may take; beyond it the listing is unknown (`page-limit`); default 50. */
  readonly maxPages?: number;
  /** Snapshot ids. */
  readonly ids: IdSource;
  /** Only used to plan history windows, to pace requests and to date failures that got no exchange time; default system. */
  readonly clock?: Clock;
  /** How the pacer waits for an endpoint's budget; default a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Bulk position list page size: the documented maximum, so that 1-2 pages cover most accounts. */
const POSITION_PAGE_LIMIT = 200;
/** `/v5/execution/list` allows [1, 100]. */
const EXECUTION_PAGE_LIMIT = 100;
/** `/v5/position/closed-pnl` allows [1, 100]. */
const CLOSED_PNL_PAGE_LIMIT = 100;
/** `/v5/order/realtime` allows [1, 50]. */
const ORDER_PAGE_LIMIT = 50;

/**
 * An `ExchangeSession` on Bybit V5 for one account. Every method resolves (never rejects) for
 * exchange faults: a failed, partial or unreadable answer is `unknown` with a typed reason.
 *
 * Close evidence comes from `GET /v5/execution/list` (see `fetchPositionChanges`).
 */
export function createBybitSession(config: BybitSessionConfig): ExchangeSession {
  const category = config.category ?? 'linear';
  const settleCoins: readonly (string | undefined)[] =
    config.settleCoins !== undefined && config.settleCoins.length > 0
      ? config.settleCoins
      : category === 'linear'
        ? ['USDT']
        : [undefined];
  const maxPages = config.maxPages ?? 50;
  const clock = config.clock ?? systemClock;
  const redact: Redactor = redactorFor([config.apiKey, config.apiSecret]);
  const client = new RestClientV5(
    {
      baseUrl: config.baseUrl,
      key: config.apiKey,
      secret: config.apiSecret,
      recv_window: config.recvWindowMs ?? 5000,
      parseAPIRateLimits: true,
    },
    { timeout: config.requestTimeoutMs ?? 10_000 },
  );

  // One pacer per session, and the worker keeps one session per account for the container's life.
  const pacer = new EndpointPacer(
    clock.now,
    config.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  );

  const send = pacedSender(pacer, redact, clock.now);
  const historyMemory = freshHistoryMemory();
  const priceFilters = priceFilterCache(client, category, redact, clock.now);

  const readPage = <S extends z.ZodType>(
    endpoint: BybitEndpoint,
    call: () => Promise<unknown>,
    context: string,
    entrySchema: S,
  ) => readListPage(() => send(endpoint, call, context), context, entrySchema, redact);

  function listPositions(
    filter: { readonly settleCoin?: string; readonly symbol?: string },
    stopWhen?: (items: readonly BybitPosition[]) => boolean,
  ): Promise<CollectedPages<BybitPosition>> {
    const what = `GET /v5/position/list ${filter.symbol === undefined ? `settleCoin=${filter.settleCoin ?? '(none)'}` : `symbol=${filter.symbol}`}`;
    return collectPages(
      (cursor) =>
        readPage(
          '/v5/position/list',
          () =>
            client.getPositionInfo({
              category,
              ...filter,
              limit: POSITION_PAGE_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          what,
          positionEntrySchema,
        ),
      {
        maxPages,
        // Every check reads this list: a last-page cursor must not double its cost.
        endOnShortPage: POSITION_PAGE_LIMIT,
        what,
        ...(stopWhen === undefined ? {} : { stopWhen }),
      },
    );
  }

  return {
    async fetchOpenPositions(): Promise<PositionSnapshot> {
      const snapshotId = config.ids.next('snap');
      const positions = new Map<string, ObservedPosition>();
      let pages = 0;
      let fetchedAt: number | undefined;
      for (const settleCoin of settleCoins) {
        const listed = await listPositions(settleCoin === undefined ? {} : { settleCoin });
        pages += listed.pages;
        fetchedAt ??= listed.firstTime;
        for (const entry of listed.items) {
          const observed = toObservedPosition(entry);
          // A position listed twice (the list moved under the cursor) is still one position.
          if (observed !== undefined && !positions.has(positionIdOf(observed))) {
            positions.set(positionIdOf(observed), observed);
          }
        }
        if (listed.failure !== undefined) {
          return {
            status: 'unknown',
            snapshotId,
            // No page arrived: our clock is the only one there is.
            fetchedAt: fetchedAt ?? clock.now(),
            pages,
            positions: [...positions.values()],
            failure: listed.failure,
          };
        }
      }
      return {
        status: 'complete',
        snapshotId,
        fetchedAt: fetchedAt ?? clock.now(),
        pages,
        positions: [...positions.values()],
      };
    },

    /**
     * By symbol Bybit lists a position "regardless of having position or not"
     * (docs/v5/position/position.mdx): every leg of the account's mode, size 0 for a flat one, which is
     * a positive `flat`; a leg not listed at all is only `absent`. Any open row of a leg wins over a
     * size-0 row of the same leg, whichever comes first.
     */
    async recheckSymbol(symbol: string): Promise<SymbolRecheck> {
      const listed = await listPositions({ symbol });
      const checkedAt = listed.firstTime ?? clock.now();
      const rows = listed.items.filter((p) => p.symbol === symbol);
      const open = new Map<PositionIdx, ObservedPosition>();
      for (const row of rows) {
        const observed = toObservedPosition(row);
        if (observed !== undefined && !open.has(observed.positionIdx))
          open.set(observed.positionIdx, observed);
      }
      // Legs found open even on a page that then failed: presence is evidence.
      if (listed.failure !== undefined) {
        return { status: 'unknown', checkedAt, open: [...open.values()], failure: listed.failure };
      }
      const flat = [...new Set(rows.map((r) => r.positionIdx))].filter((idx) => !open.has(idx));
      return { status: 'listed', checkedAt, open: [...open.values()], flat };
    },

    /**
     * Close evidence from `GET /v5/execution/list`, and from `/v5/position/closed-pnl` only when a
     * fill lacks `closedSize` (close-evidence.ts says which walks). Executions, not closed-PnL, are
     * primary:
     * - executions carry every fill, opening ones included. Closed-PnL has only closing records, so
     *   "closed then reopened" would read as closed; the core's `size - closed + opened` needs both.
     * - executions carry `seq`, the cross sequence shared with the position's `seq`, so fills can be
     *   ordered against the last seen state without trusting clocks; closed-PnL has no sequence.
     * - executions say why: `execType` BustTrade (liquidation), AdlTrade (ADL), Delivery/Settle,
     *   and `stopOrderType` StopLoss/TakeProfit/TrailingStop.
     * Both keep 2 years and answer at most 7 days per query, hence the windows.
     */
    fetchPositionChanges: (positions: readonly TrackedPosition[]) =>
      closeEvidenceOf(
        positions,
        clock.now,
        { executions: listExecutions, closedPnl: listClosedPnl, maxPages },
        historyMemory,
      ),

    /**
     * `GET /v5/order/realtime`, all symbols per settle coin, or by symbol (see the port). Without
     * `orderFilter` it returns "all kinds of orders" for futures (docs/v5/order/open-order.mdx), i.e.
     * active orders and conditional ones (StopOrder, where position TP/SL live). One symbol asked is
     * listed by that symbol alone, so a grid of thousands of orders on another symbol does not page
     * into it; otherwise one listing per settle coin.
     */
    async fetchProtectiveOrders(symbols?: readonly string[]): Promise<OpenProtectiveOrders> {
      return listOrdersBy(
        symbols?.length === 1
          ? [{ symbol: symbols[0] as string }]
          : settleCoins.map((coin) => (coin === undefined ? {} : { settleCoin: coin })),
      );
    },

    async cancelOrder(symbol: string, orderId: string): Promise<CancelOutcome> {
      const context = `POST /v5/order/cancel ${symbol} ${orderId}`;
      const reply = await send(
        '/v5/order/cancel',
        () => client.cancelOrder({ category, symbol, orderId }),
        context,
      );
      if (reply.ok) {
        const parsed = cancelResultSchema.safeParse(reply.result);
        // The cancel was accepted (retCode 0) even if the echo is odd; say so rather than retry it.
        if (parsed.success && parsed.data.orderId !== '' && parsed.data.orderId !== orderId) {
          const mismatch: SnapshotFailure = {
            reason: 'schema-mismatch',
            detail: `${context}: Bybit acknowledged a different order (${parsed.data.orderId})`,
          };
          return failedCancel(orderId, mismatch, isRetryable(mismatch));
        }
        return { status: 'cancelled', orderId };
      }
      const { failure } = reply;
      if (failure.exchangeCode !== undefined && ORDER_GONE_CODES.has(failure.exchangeCode)) {
        return { status: 'already-gone', orderId, detail: failure.detail };
      }
      return failedCancel(orderId, failure, isRetryable(failure));
    },

    placeStop: (request: StopOrderRequest) => placeStopOrder(send, client, category, request, priceFilters),
  };

  /** Every protective order the listings (per settle coin or symbol) show; unknown at the first that fails. */
  async function listOrdersBy(
    filters: readonly ({ readonly settleCoin?: string } | { readonly symbol: string })[],
  ): Promise<OpenProtectiveOrders> {
    const orders = new Map<string, ProtectiveOrder>();
    for (const filter of filters) {
      const what = `GET /v5/order/realtime ${'symbol' in filter ? `symbol=${filter.symbol}` : `settleCoin=${filter.settleCoin ?? '(none)'}`}`;
      const listed = await collectPages<BybitOrder>(
        (cursor) =>
          readPage(
            '/v5/order/realtime',
            () =>
              client.getActiveOrders({
                category,
                ...filter,
                openOnly: 0,
                limit: ORDER_PAGE_LIMIT,
                ...(cursor === undefined ? {} : { cursor }),
              }),
            what,
            orderEntrySchema,
          ),
        { maxPages, what },
      );
      if (listed.failure !== undefined) return { status: 'unknown', failure: listed.failure };
      for (const order of listed.items) {
        const protective = toProtectiveOrder(order, order.positionIdx);
        if (protective !== undefined) orders.set(protective.orderId, protective);
      }
    }
    return { status: 'known', orders: [...orders.values()] };
  }

  function listClosedPnl(
    window: HistoryWindow,
    symbol: string | undefined,
    pageLimit: number,
  ): Promise<CollectedPages<BybitClosedPnl>> {
    const what = `GET /v5/position/closed-pnl ${windowWords(window, symbol)}`;
    return collectPages(
      (cursor) =>
        readPage(
          '/v5/position/closed-pnl',
          () =>
            client.getClosedPnL({
              category,
              ...(symbol === undefined ? {} : { symbol }),
              startTime: window.startTime,
              ...(window.endTime === undefined ? {} : { endTime: window.endTime }),
              limit: CLOSED_PNL_PAGE_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          what,
          closedPnlEntrySchema,
        ),
      { maxPages: pageLimit, what },
    );
  }

  function listExecutions(
    window: HistoryWindow,
    symbol: string | undefined,
    pageLimit: number,
  ): Promise<CollectedPages<BybitExecution>> {
    const what = `GET /v5/execution/list ${windowWords(window, symbol)}`;
    return collectPages(
      (cursor) =>
        readPage(
          '/v5/execution/list',
          () =>
            client.getExecutionList({
              category,
              ...(symbol === undefined ? {} : { symbol }),
              startTime: window.startTime,
              ...(window.endTime === undefined ? {} : { endTime: window.endTime }),
              limit: EXECUTION_PAGE_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          what,
          executionEntrySchema,
        ),
      { maxPages: pageLimit, what },
    );
  }
}

function windowWords(window: HistoryWindow, symbol: string | undefined): string {
  return `${symbol === undefined ? '' : `symbol=${symbol} `}startTime=${window.startTime}${window.endTime === undefined ? '' : ` endTime=${window.endTime}`}`;
}
