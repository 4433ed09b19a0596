import type { SnapshotFailure } from '#core/types.js';

/** One page as the caller read it: validated items, the next cursor ("" at the end) and exchange time. */
export type PageResult<T> =
  | { readonly ok: true; readonly items: readonly T[]; readonly nextCursor: string; readonly time: number }
  /** `items`: entries of a failed page that did validate (a schema mismatch in one entry). */
  | { readonly ok: false; readonly failure: SnapshotFailure; readonly items?: readonly T[] };

export interface CollectedPages<T> {
  /** Everything read, the failed page's valid entries included. */
  readonly items: readonly T[];
  /** Pages that arrived (failed ones excluded). */
  readonly pages: number;
  /** Exchange time of the first page that arrived. */
  readonly firstTime?: number;
  /** Set when the listing did not provably reach its end. */
  readonly failure?: SnapshotFailure;
}

export interface CollectOptions<T> {
  /**
   * More pages than this ends the walk as `page-limit`: a runaway cursor, or a listing too big for one
   * walk, which a narrower filter (one symbol) may still read whole.
   */
  readonly maxPages: number;
  /**
   * The `limit` each page was asked for. With it, a page with fewer entries is the last one, whatever
   * cursor it carries (saves the request a last-page cursor costs). Without it, the walk follows every
   * cursor to an empty cursor or an empty page: for the listings a confirmation reads (fills, orders),
   * where one entry lost from a short page must not also cost every older page.
   */
  readonly endOnShortPage?: number;
  /** For failure details: which listing this was. */
  readonly what: string;
  /** Stop early (without failure) once this holds for the items so far: a re-check that found its symbol. */
  readonly stopWhen?: (items: readonly T[]) => boolean;
}

/**
 * Follows `nextPageCursor` to the end of a listing. Bybit does not promise an empty cursor on the last
 * page: its own documented answer for a one-position list carried `nextPageCursor: "updateAt%3D…"`, and
 * ccxt, QuantConnect's Lean and passivbot all end a walk on an empty page or a short one. So the end is
 * whichever comes first:
 * - an empty cursor;
 * - an empty page reached through a cursor (the last page was exactly full, or carried a cursor);
 * - with `endOnShortPage`, a page with fewer entries than the limit asked for.
 * Refusing a cursor that leads to an empty page as "truncated" would leave an account without a single
 * complete snapshot, for ever. A list cut short without a word is not detectable here in any case (that
 * is the incident's shape); the core's second look, the targeted re-check and the close evidence are
 * what catch it. Refused as unknown: a failed page, a cursor that repeats (`cursor-loop`), more than
 * `maxPages` pages (`page-limit`).
 */
export async function collectPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<PageResult<T>>,
  options: CollectOptions<T>,
): Promise<CollectedPages<T>> {
  const items: T[] = [];
  const usedCursors = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  let firstTime: number | undefined;
  const done = (failure?: SnapshotFailure): CollectedPages<T> => ({
    items,
    pages,
    ...(firstTime === undefined ? {} : { firstTime }),
    ...(failure === undefined ? {} : { failure }),
  });

  for (;;) {
    if (pages >= options.maxPages) {
      return done({
        reason: 'page-limit',
        detail: `${options.what}: still a next cursor after ${pages} pages (maxPages ${options.maxPages})`,
      });
    }
    const page = await fetchPage(cursor);
    if (!page.ok) {
      items.push(...(page.items ?? []));
      return done({ ...page.failure, detail: `${page.failure.detail} (page ${pages + 1})` });
    }
    pages++;
    firstTime ??= page.time;
    items.push(...page.items);
    if (options.stopWhen?.(items)) return done();
    if (page.nextCursor === '' || page.items.length === 0) return done();
    if (options.endOnShortPage !== undefined && page.items.length < options.endOnShortPage) return done();
    if (usedCursors.has(page.nextCursor)) {
      return done({
        reason: 'cursor-loop',
        detail: `${options.what}: page ${pages} returned a cursor already followed`,
      });
    }
    usedCursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
