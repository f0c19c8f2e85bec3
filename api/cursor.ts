import { ValidationError } from '../core/domain/errors';

/**
 * Where a keyset page ends, for any list sorted newest first on (a timestamp, a uuid): robots by
 * creation, alerts by firing, audit rows by time, sent emails by sending. The repositories take it
 * as `after` and compare it with their own sort key.
 */
export interface Cursor {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque keyset cursor: stable under inserts, unlike offsets. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const [iso, id, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (rest.length > 0 || !id || !UUID.test(id) || Number.isNaN(at.getTime())) {
    throw new ValidationError('query.cursor: not a cursor returned by this API', {
      errors: [{ field: 'query.cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return { at, id };
}

/** The cursor of a list query, if it has one. */
export const cursorAfter = (raw: string | undefined): Cursor | undefined =>
  raw ? decodeCursor(raw) : undefined;

/**
 * One keyset page from `limit + 1` rows read past the cursor: the first `limit`, and the cursor of
 * the last of them when the extra row shows there is more.
 */
export function keysetPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => Cursor,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}
