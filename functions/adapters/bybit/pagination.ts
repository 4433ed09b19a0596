import type { SnapshotFailure } from '../../core/types.js';

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
  /** More pages than this is a runaway cursor, not a big account. */
  readonly maxPages: number;
  /** For failure details: which listing this was. */
  readonly what: string;
  /** Stop early (without failure) once this holds for the items so far: a re-check that found its symbol. */
  readonly stopWhen?: (items: readonly T[]) => boolean;
}

/**
 * Follows `nextPageCursor` to the end. Only a listing whose every page arrived, and whose last page
 * returned an empty cursor, comes back without `failure`. Two shapes of broken pagination are
 * refused rather than trusted:
 * - a cursor that repeats, or more than `maxPages` pages: `cursor-loop`;
 * - a cursor followed by an empty page: `truncated-pagination`. An honest end returns an empty
 *   cursor; a cursor that leads nowhere is indistinguishable from a list cut short, which is the
 *   incident's shape (fewer positions, no error), so it may not read as complete.
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
        reason: 'cursor-loop',
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
    if (cursor !== undefined && page.items.length === 0) {
      return done({
        reason: 'truncated-pagination',
        detail: `${options.what}: page ${pages} was empty although page ${pages - 1} gave a next cursor`,
      });
    }
    if (options.stopWhen?.(items)) return done();
    if (page.nextCursor === '') return done();
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
