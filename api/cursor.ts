import { ValidationError } from '../core/domain/errors';

export interface RobotCursor {
  createdAt: Date;
  robotId: string;
}

/** Opaque keyset cursor: stable under inserts, unlike offsets. */
export function encodeCursor(cursor: RobotCursor): string {
  return Buffer.from(`${cursor.createdAt.toISOString()}|${cursor.robotId}`).toString('base64url');
}

export function decodeCursor(raw: string): RobotCursor {
  const [iso, robotId, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (rest.length > 0 || !robotId || !uuid.test(robotId) || Number.isNaN(createdAt.getTime())) {
    throw new ValidationError('query.cursor: not a cursor returned by this API', {
      errors: [{ field: 'query.cursor', message: 'not a cursor returned by this API' }],
    });
  }
  return { createdAt, robotId };
}

/**
 * One keyset page from `limit + 1` rows read past the cursor: the first `limit`, and the cursor of
 * the last of them when the extra row shows there is more.
 */
export function keysetPage<T>(
  rows: T[],
  limit: number,
  cursorOf: (row: T) => RobotCursor,
): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(cursorOf(last)) : null };
}
