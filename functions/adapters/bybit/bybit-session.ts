// The REST client's own module, not the package index: the index also loads the websocket clients
// (and `ws`), which the worker never uses, into a bundle that must stay under 1 MB.
import { RestClientV5 } from 'bybit-api/lib/rest-client-v5.js';
import type * as z from 'zod';
import { formatIssues } from '#contracts/issues.js';
import { positionIdOf } from '#core/keys.js';
import type {
  CloseEvidence,
  ObservedPosition,
  OpenProtectiveOrders,
  PositionIdx,
  PositionRecheck,
  PositionSnapshot,
  ProtectiveOrder,
  SnapshotFailure,
  TrackedPosition,
} from '#core/types.js';
import { type Clock, systemClock } from '#ports/clock.js';
import type { CancelOutcome, ExchangeSession } from '#ports/exchange.js';
import type { IdSource } from '#ports/ids.js';
import { attributeFills, closeRecordsOf } from './attribution.js';
import { isRetryable, ORDER_GONE_CODES, type Redactor, redactorFor } from './failures.js';
import {
  HISTORY_RETENTION_MS,
  type HistoryWindow,
  historyWindows,
  toObservedPosition,
  toProtectiveOrder,
} from './mapping.js';
import { type CollectedPages, collectPages, type PageResult } from './pagination.js';
import {
  type BybitClosedPnl,
  type BybitExecution,
  type BybitOrder,
  type BybitPosition,
  cancelResultSchema,
  closedPnlEntrySchema,
  executionEntrySchema,
  listResultSchema,
  orderEntrySchema,
  positionEntrySchema,
} from './schemas.js';
import { callBybit } from './transport.js';

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
  /** Most pages one listing may take before it counts as a runaway cursor; default 50. */
  readonly maxPages?: number;
  /** Snapshot ids. */
  readonly ids: IdSource;
  /** Only used to plan history windows and to date failures that got no exchange time; default system. */
  readonly clock?: Clock;
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

  /** Reads one page of a list endpoint; entries are validated one by one so valid ones survive a bad one. */
  async function readPage<S extends z.ZodType>(
    call: () => Promise<unknown>,
    context: string,
    entrySchema: S,
  ): Promise<PageResult<z.output<S>>> {
    const reply = await callBybit(call, context, redact);
    if (!reply.ok) return reply;
    const list = listResultSchema.safeParse(reply.result);
    if (!list.success) {
      return {
        ok: false,
        failure: {
          reason: 'schema-mismatch',
          detail: redact(`${context}: ${formatIssues(list.error.issues, { limit: 3 })}`),
        },
      };
    }
    const items: z.output<S>[] = [];
    let firstBad: { readonly index: number; readonly error: z.ZodError } | undefined;
    for (const [index, raw] of list.data.list.entries()) {
      const entry = entrySchema.safeParse(raw);
      if (entry.success) items.push(entry.data);
      else firstBad ??= { index, error: entry.error };
    }
    if (firstBad !== undefined) {
      const { index, error } = firstBad;
      const issues = error.issues.map((i) => ({ ...i, path: ['list', index, ...i.path] }));
      return {
        ok: false,
        items,
        failure: {
          reason: 'schema-mismatch',
          detail: redact(`${context}: ${formatIssues(issues, { limit: 3 })}`),
        },
      };
    }
    return { ok: true, items, nextCursor: list.data.nextPageCursor, time: reply.time };
  }

  function listPositions(
    filter: { readonly settleCoin?: string; readonly symbol?: string },
    stopWhen?: (items: readonly BybitPosition[]) => boolean,
  ): Promise<CollectedPages<BybitPosition>> {
    const what = `GET /v5/position/list ${filter.symbol === undefined ? `settleCoin=${filter.settleCoin ?? '(none)'}` : `symbol=${filter.symbol}`}`;
    return collectPages(
      (cursor) =>
        readPage(
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
     * (docs/v5/position/position.mdx): size 0 is a positive `flat`; a missing entry is only `absent`.
     * Any open row of the leg wins over a size-0 row of the same leg, whichever comes first: a stale
     * placeholder listed before the live row must not read as flat.
     */
    async recheckPosition(symbol: string, positionIdx: PositionIdx): Promise<PositionRecheck> {
      const isTarget = (p: BybitPosition) => p.symbol === symbol && p.positionIdx === positionIdx;
      const openRow = (items: readonly BybitPosition[]) =>
        items
          .filter(isTarget)
          .map(toObservedPosition)
          .find((p) => p !== undefined);
      const listed = await listPositions({ symbol }, (items) => openRow(items) !== undefined);
      const checkedAt = listed.firstTime ?? clock.now();
      const open = openRow(listed.items);
      // Found open even on a page that then failed: presence is evidence.
      if (open !== undefined) return { status: 'open', checkedAt, position: open };
      if (listed.failure !== undefined) return { status: 'unknown', checkedAt, failure: listed.failure };
      return listed.items.some(isTarget) ? { status: 'flat', checkedAt } : { status: 'absent', checkedAt };
    },

    /**
     * Close evidence from `GET /v5/execution/list`, not `/v5/position/closed-pnl`:
     * - executions carry every fill, opening ones included. Closed-PnL has only closing records, so
     *   "closed then reopened" would read as closed; the core's `size - closed + opened` needs both.
     * - executions carry `seq`, the cross sequence shared with the position's `seq`, so fills can be
     *   ordered against the last seen state without trusting clocks; closed-PnL has no sequence.
     * - executions say why: `execType` BustTrade (liquidation), AdlTrade (ADL), Delivery/Settle,
     *   and `stopOrderType` StopLoss/TakeProfit/TrailingStop. Closed-PnL's execType list
     *   (Trade, BustTrade, SessionSettlePnL, Settle, MovePosition) has no ADL and no stop type.
     * - closed-PnL is one record per closing order, written when the order's closing completes; a
     *   fill is in the execution list as it happens.
     * Both keep 2 years and answer at most 7 days per query, hence the windows.
     */
    async fetchPositionChanges(position: TrackedPosition): Promise<CloseEvidence> {
      const searchedFrom = position.stateUpdatedAt;
      const now = clock.now();
      if (now - searchedFrom > HISTORY_RETENTION_MS) {
        return {
          status: 'unknown',
          searchedFrom,
          failure: {
            reason: 'exchange-error',
            detail: `GET /v5/execution/list: the last seen state is older than Bybit's 2-year fill history`,
          },
        };
      }
      const windows = historyWindows(searchedFrom, now);
      const fills: BybitExecution[] = [];
      let searchedTo: number | undefined;
      for (const window of windows) {
        const listed = await listExecutions(position.symbol, window);
        if (listed.failure !== undefined) return { status: 'unknown', searchedFrom, failure: listed.failure };
        fills.push(...listed.items);
        // The list is newest first: its first page is the moment the newest fills were read. A fill
        // landing while later pages load may be missed by an offset cursor, so no later time is claimed.
        searchedTo = listed.firstTime;
      }
      let attribution = attributeFills(fills, position);
      if (attribution.status === 'needs-close-records') {
        // A fill without closedSize: closed-PnL says which orders closed what (see attribution.ts).
        const closes: BybitClosedPnl[] = [];
        for (const window of windows) {
          const listed = await listClosedPnl(position.symbol, window);
          if (listed.failure !== undefined)
            return { status: 'unknown', searchedFrom, failure: listed.failure };
          closes.push(...listed.items);
        }
        attribution = attributeFills(fills, position, closeRecordsOf(closes, position.symbol));
      }
      return {
        status: 'known',
        searchedFrom,
        searchedTo: searchedTo ?? now,
        changes: attribution.status === 'attributed' ? attribution.changes : [],
      };
    },

    /**
     * `GET /v5/order/realtime` by symbol. Without `orderFilter` it returns "all kinds of orders"
     * for futures (docs/v5/order/open-order.mdx), i.e. active orders and conditional ones (StopOrder,
     * where position TP/SL live): exactly what we need, in one listing.
     */
    async fetchProtectiveOrders(symbol: string, positionIdx: PositionIdx): Promise<OpenProtectiveOrders> {
      const what = `GET /v5/order/realtime symbol=${symbol}`;
      const listed = await collectPages<BybitOrder>(
        (cursor) =>
          readPage(
            () =>
              client.getActiveOrders({
                category,
                symbol,
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
      const orders = new Map<string, ProtectiveOrder>();
      for (const order of listed.items) {
        const protective = order.symbol === symbol ? toProtectiveOrder(order, positionIdx) : undefined;
        if (protective !== undefined) orders.set(protective.orderId, protective);
      }
      return { status: 'known', orders: [...orders.values()] };
    },

    async cancelOrder(symbol: string, orderId: string): Promise<CancelOutcome> {
      const context = `POST /v5/order/cancel ${symbol} ${orderId}`;
      const reply = await callBybit(() => client.cancelOrder({ category, symbol, orderId }), context, redact);
      if (reply.ok) {
        const parsed = cancelResultSchema.safeParse(reply.result);
        // The cancel was accepted (retCode 0) even if the echo is odd; say so rather than retry it.
        return parsed.success && parsed.data.orderId !== '' && parsed.data.orderId !== orderId
          ? failedCancel(orderId, {
              reason: 'schema-mismatch',
              detail: `${context}: Bybit acknowledged a different order (${parsed.data.orderId})`,
            })
          : { status: 'cancelled', orderId };
      }
      const { failure } = reply;
      if (failure.exchangeCode !== undefined && ORDER_GONE_CODES.has(failure.exchangeCode)) {
        return { status: 'already-gone', orderId, detail: failure.detail };
      }
      return failedCancel(orderId, failure);
    },
  };

  function listClosedPnl(symbol: string, window: HistoryWindow): Promise<CollectedPages<BybitClosedPnl>> {
    const what = `GET /v5/position/closed-pnl symbol=${symbol} startTime=${window.startTime}${window.endTime === undefined ? '' : ` endTime=${window.endTime}`}`;
    return collectPages(
      (cursor) =>
        readPage(
          () =>
            client.getClosedPnL({
              category,
              symbol,
              startTime: window.startTime,
              ...(window.endTime === undefined ? {} : { endTime: window.endTime }),
              limit: CLOSED_PNL_PAGE_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          what,
          closedPnlEntrySchema,
        ),
      { maxPages, what },
    );
  }

  function listExecutions(symbol: string, window: HistoryWindow): Promise<CollectedPages<BybitExecution>> {
    const what = `GET /v5/execution/list symbol=${symbol} startTime=${window.startTime}${window.endTime === undefined ? '' : ` endTime=${window.endTime}`}`;
    return collectPages(
      (cursor) =>
        readPage(
          () =>
            client.getExecutionList({
              category,
              symbol,
              startTime: window.startTime,
              ...(window.endTime === undefined ? {} : { endTime: window.endTime }),
              limit: EXECUTION_PAGE_LIMIT,
              ...(cursor === undefined ? {} : { cursor }),
            }),
          what,
          executionEntrySchema,
        ),
      { maxPages, what },
    );
  }
}

function failedCancel(orderId: string, failure: SnapshotFailure): CancelOutcome {
  return {
    status: 'failed',
    orderId,
    detail: failure.detail,
    ...(failure.exchangeCode === undefined ? {} : { exchangeCode: failure.exchangeCode }),
    retryable: isRetryable(failure),
    ...(failure.retryAt === undefined ? {} : { retryAt: failure.retryAt }),
  };
}
