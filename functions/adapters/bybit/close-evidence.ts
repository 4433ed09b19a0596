import { positionIdOf } from '#core/keys.js';
import type { CloseEvidence, SnapshotFailure, TrackedPosition } from '#core/types.js';
import { attributeFills, type CloseRecords, closeRecordsOf } from './attribution.js';
import { HISTORY_RETENTION_MS, type HistoryWindow, historyWindows } from './mapping.js';
import type { CollectedPages } from './pagination.js';
import type { BybitClosedPnl, BybitExecution } from './schemas.js';

/** One walk of a history listing over one window: account-wide, or only one symbol's records. */
export type HistoryListing<T> = (
  window: HistoryWindow,
  symbol: string | undefined,
) => Promise<CollectedPages<T>>;

export interface HistoryListings {
  /** `GET /v5/execution/list`. */
  readonly executions: HistoryListing<BybitExecution>;
  /** `GET /v5/position/closed-pnl`. */
  readonly closedPnl: HistoryListing<BybitClosedPnl>;
}

/**
 * Close evidence for several positions, attributed per position (attribution.ts) and keyed by
 * `positionIdOf`. Executions are primary; closed-PnL is read only when a fill lacks `closedSize`.
 *
 * Which walk: the positions of one symbol are asked by that symbol, so only its fills are paged.
 * Positions of several symbols share one account-wide walk; if that walk reaches the page limit (an
 * account with more fills since the earliest state than `maxPages` pages hold), each symbol is walked
 * on its own, so that one busy symbol cannot leave every other without evidence for ever. A symbol
 * whose own walk still reaches the limit stays `unknown`, and only its positions do.
 */
export async function closeEvidenceOf(
  positions: readonly TrackedPosition[],
  now: number,
  listings: HistoryListings,
): Promise<ReadonlyMap<string, CloseEvidence>> {
  const answers = new Map<string, CloseEvidence>();
  const searchable = positions.filter((p) => {
    if (now - p.stateUpdatedAt <= HISTORY_RETENTION_MS) return true;
    answers.set(positionIdOf(p), {
      status: 'unknown',
      searchedFrom: p.stateUpdatedAt,
      failure: {
        reason: 'exchange-error',
        detail: "GET /v5/execution/list: the last seen state is older than Bybit's 2-year fill history",
      },
    });
    return false;
  });
  const symbols = [...new Set(searchable.map((p) => p.symbol))];
  if (symbols.length > 1) {
    const wide = await walk(searchable, undefined, now, listings);
    if (!wide.pageLimitReached) return new Map([...answers, ...wide.answers]);
  }
  for (const symbol of symbols) {
    const own = await walk(
      searchable.filter((p) => p.symbol === symbol),
      symbol,
      now,
      listings,
    );
    for (const [id, answer] of own.answers) answers.set(id, answer);
  }
  return answers;
}

interface Walked {
  readonly answers: ReadonlyMap<string, CloseEvidence>;
  /** Unknown because a listing reached its page limit: a narrower walk may still succeed. */
  readonly pageLimitReached: boolean;
}

/** One walk of the history windows from the earliest last seen state, then the attribution. */
async function walk(
  positions: readonly TrackedPosition[],
  symbol: string | undefined,
  now: number,
  listings: HistoryListings,
): Promise<Walked> {
  const unknownAll = (listed: CollectedPages<unknown> & { failure: SnapshotFailure }): Walked => ({
    answers: new Map(
      positions.map((p) => [
        positionIdOf(p),
        { status: 'unknown', searchedFrom: p.stateUpdatedAt, failure: listed.failure },
      ]),
    ),
    pageLimitReached: listed.pageLimitReached === true,
  });
  const windows = historyWindows(Math.min(...positions.map((p) => p.stateUpdatedAt)), now);
  const fills: BybitExecution[] = [];
  let searchedTo: number | undefined;
  for (const window of windows) {
    const listed = await listings.executions(window, symbol);
    if (listed.failure !== undefined) return unknownAll({ ...listed, failure: listed.failure });
    fills.push(...listed.items);
    // The list is newest first: its first page is the moment the newest fills were read. A fill
    // landing while later pages load may be missed by an offset cursor, so no later time is claimed.
    searchedTo = listed.firstTime;
  }
  const first = positions.map((p) => [p, attributeFills(fills, p)] as const);
  let records: CloseRecords | undefined;
  if (first.some(([, a]) => a.status === 'needs-close-records')) {
    // A fill without closedSize: closed-PnL says which orders closed what (see attribution.ts).
    const closes: BybitClosedPnl[] = [];
    for (const window of windows) {
      const listed = await listings.closedPnl(window, symbol);
      if (listed.failure !== undefined) return unknownAll({ ...listed, failure: listed.failure });
      closes.push(...listed.items);
    }
    records = closeRecordsOf(closes);
  }
  const answers = new Map<string, CloseEvidence>();
  for (const [position, attribution] of first) {
    const final =
      attribution.status === 'attributed' ? attribution : attributeFills(fills, position, records);
    answers.set(positionIdOf(position), {
      status: 'known',
      searchedFrom: position.stateUpdatedAt,
      searchedTo: searchedTo ?? now,
      changes: final.status === 'attributed' ? final.changes : [],
    });
  }
  return { answers, pageLimitReached: false };
}
