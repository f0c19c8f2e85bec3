import { and, eq } from 'drizzle-orm';
import type { JsonHash } from '../core/domain/json-hash';
import type { Database } from './client';
import { sharedHashes } from './schema';

/**
 * A JsonHash in Postgres: without Redis, the processes of one deployment still share circuits and scores
 * (twin of json-hash.redis.ts).
 */
export class PostgresJsonHash<T> implements JsonHash<T> {
  constructor(
    private readonly db: Database,
    private readonly hash: string,
  ) {}

  async get(field: string): Promise<T | undefined> {
    const rows = await this.db
      .select({ value: sharedHashes.value })
      .from(sharedHashes)
      .where(and(eq(sharedHashes.hash, this.hash), eq(sharedHashes.field, field)))
      .limit(1);
    return rows[0]?.value as T | undefined;
  }

  async all(): Promise<Map<string, T>> {
    const rows = await this.db
      .select({ field: sharedHashes.field, value: sharedHashes.value })
      .from(sharedHashes)
      .where(eq(sharedHashes.hash, this.hash));
    return new Map(rows.map((row) => [row.field, row.value as T]));
  }

  async set(field: string, value: T): Promise<void> {
    await this.db
      .insert(sharedHashes)
      .values({ hash: this.hash, field, value })
      .onConflictDoUpdate({
        target: [sharedHashes.hash, sharedHashes.field],
        set: { value, updatedAt: new Date() },
      });
  }

  async delete(field: string): Promise<void> {
    await this.db
      .delete(sharedHashes)
      .where(and(eq(sharedHashes.hash, this.hash), eq(sharedHashes.field, field)));
  }
}
