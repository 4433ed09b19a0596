import { positionIdOf } from '#core/keys.js';
import type { CloseEvidence, SnapshotFailure, TrackedPosition } from '#core/types.js';
import { attributeFills, type CloseRecords, closeRecordsOf } from './attribution.js';
import { HISTORY_RETENTION_MS, type HistoryWindow, historyWindows } from './mapping.js';
import type { CollectedPages } from './pagination.js';
import type { BybitClosedPnl, BybitExecution } from './schemas.js';

/** One walk of a history listing over one window, account-wide or one symbol's, of at most `maxPages`. */
export type HistoryListing<T> = (
  window: HistoryWindow,
  symbol: string | undefined,
  maxPages: number,
) => Promise<CollectedPages<T>>;

export interface HistoryListings {
  /** `GET /v5/execution/list`. */
  readonly executions: HistoryListing<BybitExecution>;
  /** `GET /v5/position/closed-pnl`. */
  readonly closedPnl: HistoryListing<BybitClosedPnl>;
  /** The most pages one listing may take. */
  readonly maxPages: number;
}

/** What a session remembers of its account's history between passes. */
export interface HistoryMemory {
  /** Until then, positions of several symbols skip the account-wide walk: it reached the page limit. */
  wideWalkTooBigUntil: number;
  /** Symbols whose own walk reached the page limit, until when: walked after every other. */
  readonly busySymbolsUntil: Map<string, number>;
}

/** A session's memory before its first walk. */
export function freshHistoryMemory(): HistoryMemory {
  return { wideWalkTooBigUntil: 0, busySymbolsUntil: new Map() };
}

/** How long an account whose fills outgrew one walk is walked per symbol straight away. */
const TOO_BIG_FOR_MS = 3_600_000;

/**
 * Close evidence for several positions, attributed per position (attribution.ts) and keyed by
 * `positionIdOf`. Executions are primary; closed-PnL is read only when a fill lacks `closedSize`.
 *
 * Which walk: the positions of one symbol are asked by that symbol, so only its fills are paged.
 * Positions of several symbols share one account-wide walk. If that walk reaches the page limit (more
 * fills since the earliest state than `maxPages` pages hold: a grid, a scalper), each symbol is walked
 * on its own, out of one shared allowance of one more listing's pages, so that one busy symbol can
 * neither leave every other without evidence for ever nor make a pass outlast its worker: the symbols
 * known to be busy last, then the quietest first. A symbol the allowance does not cover stays `unknown`
 * (`page-limit`), and only its positions do. For an hour such an account skips the account-wide walk
 * (its per-symbol walks then share two listings' pages), and a symbol too busy on its own is walked
 * after every other.
 */
export async function closeEvidenceOf(
  positions: readonly TrackedPosition[],
  now: () => number,
  listings: HistoryListings,
  memory: HistoryMemory,
): Promise<ReadonlyMap<string, CloseEvidence>> {
  const startedAt = now();
  const answers = new Map<string, CloseEvidence>();
  const searchable = positions.filter((p) => {
    if (startedAt - p.stateUpdatedAt <= HISTORY_RETENTION_MS) return true;
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
  if (symbols.length === 0) return answers;
  if (symbols.length === 1) return merged(answers, await walk(searchable, symbols[0], now, listings));
  let allowance = 2 * listings.maxPages;
  // Known busy symbols last, then (after a wide walk) the symbols with the most fills in it.
  const busy = (symbol: string) => ((memory.busySymbolsUntil.get(symbol) ?? 0) > startedAt ? 1 : 0);
  let fillsOf = (_symbol: string) => 0;
  if (startedAt >= memory.wideWalkTooBigUntil) {
    const wide = await walk(searchable, undefined, now, listings, undefined);
    if (wide.failure?.reason !== 'page-limit') return merged(answers, wide);
    memory.wideWalkTooBigUntil = startedAt + TOO_BIG_FOR_MS;
    allowance -= listings.maxPages;
    fillsOf = (symbol) => wide.fills.filter((f) => f.symbol === symbol).length;
  }
  symbols.sort((a, b) => busy(a) - busy(b) || fillsOf(a) - fillsOf(b));
  const shared = { pages: allowance };
  for (const symbol of symbols) {
    const own = searchable.filter((p) => p.symbol === symbol);
    const walked = await walk(own, symbol, now, listings, shared);
    if (walked.failure?.reason === 'page-limit' && walked.starved !== true) {
      memory.busySymbolsUntil.set(symbol, startedAt + TOO_BIG_FOR_MS);
    }
    merged(answers, walked);
  }
  return answers;
}

interface Walked {
  readonly answers: ReadonlyMap<string, CloseEvidence>;
  /** Why the walk ended unknown, if it did. */
  readonly failure?: SnapshotFailure;
  /** The fills read, even by a walk that failed. */
  readonly fills: readonly BybitExecution[];
  /** Unknown because the shared allowance ran out for it, not because it outgrew a listing itself. */
  readonly starved?: true;
}

function merged(into: Map<string, CloseEvidence>, walked: Walked): Map<string, CloseEvidence> {
  for (const [id, answer] of walked.answers) into.set(id, answer);
  return into;
}

/**
 * One walk of the history windows from the earliest last seen state (planned when the walk starts),
 * then the attribution. `symbol` narrows every listing to it. Each listing may take `maxPages` pages,
 * or, with `shared`, what is left of that allowance, which the walk spends.
 */
async function walk(
  positions: readonly TrackedPosition[],
  symbol: string | undefined,
  now: () => number,
  listings: HistoryListings,
  shared?: { pages: number },
): Promise<Walked> {
  const fills: BybitExecution[] = [];
  let starved = false;
  const allowanceSpent = `this pass's allowance of pages went to its other symbols`;
  const list = async <T>(listing: HistoryListing<T>, window: HistoryWindow): Promise<CollectedPages<T>> => {
    if (shared !== undefined && shared.pages <= 0) {
      starved = true;
      const detail = `history of ${symbol ?? 'the account'} not read whole: ${allowanceSpent}`;
      return { items: [], pages: 0, failure: { reason: 'page-limit', detail } };
    }
    // One listing never takes more than its own limit, so a symbol walked early leaves pages to the rest.
    const limit = Math.min(shared?.pages ?? Number.POSITIVE_INFINITY, listings.maxPages);
    const listed = await listing(window, symbol, limit);
    if (shared !== undefined) shared.pages -= listed.pages;
    if (listed.failure?.reason === 'page-limit' && limit < listings.maxPages) {
      // Cut short by what the symbols before it took, not by its own size: not a busy symbol.
      starved = true;
      return {
        ...listed,
        failure: { ...listed.failure, detail: `${listed.failure.detail}: ${allowanceSpent}` },
      };
    }
    return listed;
  };
  const unknownAll = (failure: SnapshotFailure): Walked => ({
    answers: new Map(
      positions.map((p) => [positionIdOf(p), { status: 'unknown', searchedFrom: p.stateUpdatedAt, failure }]),
    ),
    failure,
    fills,
    ...(starved ? { starved: true as const } : {}),
  });
  const windows = historyWindows(Math.min(...positions.map((p) => p.stateUpdatedAt)), now());
  let searchedTo: number | undefined;
  for (const window of windows) {
    const listed = await list(listings.executions, window);
    fills.push(...listed.items);
    if (listed.failure !== undefined) return unknownAll(listed.failure);
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
      const listed = await list(listings.closedPnl, window);
      if (listed.failure !== undefined) return unknownAll(listed.failure);
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
      searchedTo: searchedTo ?? now(),
      changes: final.status === 'attributed' ? final.changes : [],
    });
  }
  return { answers, fills };
}
