import { and, count, eq, notInArray } from 'drizzle-orm';
import { TERMINAL_STATUSES } from '../core/domain/robot';
import type { Database } from './client';
import { robots } from './schema';

/** Robots a key created that have not finished yet (index robots_key_status_idx). */
export async function countUnfinishedRobots(db: Database, keyId: string): Promise<number> {
  const rows = await db
    .select({ n: count() })
    .from(robots)
    .where(and(eq(robots.createdByKeyId, keyId), notInArray(robots.status, [...TERMINAL_STATUSES])));
  return rows[0]?.n ?? 0;
}
