/**
 * Keyset pagination with opaque cursors. Items are ordered by a sort key (ascending string order);
 * a cursor carries the key of the last item served, so the next page starts right after it even if
 * the list changed in between (a closed position does not shift every later page by one).
 */

export interface Page<T> {
  readonly items: T[];
  /**
   * The cursor after this page's last item, on the last page too, as Bybit's own documented answer for a
   * one-position list shows (`"updateAt%3D1672279322668"`); `""` only on an empty page. A client must
   * end its walk on a short or empty page, not wait for an empty cursor.
   */
  readonly nextPageCursor: string;
  /** Sort key of the last item of this page before any fault removed items from it. */
  readonly lastKey: string | undefined;
}

const PREFIX = 'sim1:';

export function encodeCursor(key: string): string {
  return Buffer.from(PREFIX + key, 'utf8').toString('base64url');
}

/** The key a cursor carries, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith(PREFIX) ? text.slice(PREFIX.length) : undefined;
}

export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  afterKey: string | undefined,
): Page<T> {
  const sorted = [...items].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const rest = afterKey === undefined ? sorted : sorted.filter((item) => compare(keyOf(item), afterKey) > 0);
  const pageItems = rest.slice(0, limit);
  const last = pageItems.at(-1);
  const lastKey = last === undefined ? undefined : keyOf(last);
  return {
    items: pageItems,
    nextPageCursor: lastKey === undefined ? '' : encodeCursor(lastKey),
    lastKey,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A sort key that orders newest first: later times sort lower, and at equal times a later id (ours
 * are counted, fixed-width) sorts lower too, so records made in the same millisecond stay newest first.
 */
export function newestFirstKey(time: number, id: string): string {
  const invertedId = [...id].map((c) => String.fromCharCode(0xffff - c.charCodeAt(0))).join('');
  return `${String(9_000_000_000_000_000 - time).padStart(16, '0')}|${invertedId}`;
}
