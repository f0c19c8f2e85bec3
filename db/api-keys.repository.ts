import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { generateKey } from '../core/adapters/crypto/api-keys';
import type { Scope } from '../core/domain/api-key-scopes';
import type { Database } from './client';
import { type ApiKeyRow, apiKeys } from './schema';

export interface NewApiKey {
  name: string;
  prefix: string;
  hash: string;
  scopes: Scope[];
  expiresAt: Date | null;
}

export class ApiKeysRepository {
  constructor(private readonly db: Database) {}

  /** Makes a key; the plain key is returned once and never stored. */
  async create(input: { name: string; scopes: Scope[]; expiresAt: Date | null }) {
    const { key, prefix, hash } = generateKey();
    const row = await this.insert({ ...input, prefix, hash });
    return { key, row };
  }

  async insert(key: NewApiKey): Promise<ApiKeyRow> {
    const rows = await this.db.insert(apiKeys).values(key).returning();
    const row = rows[0];
    if (!row) throw new Error('api key insert returned no row');
    return row;
  }

  async findByPrefix(prefix: string): Promise<ApiKeyRow | null> {
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.prefix, prefix)).limit(1);
    return rows[0] ?? null;
  }

  async list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));
  }

  /** Revokes once; a repeat keeps the first time. Null when there is no such key. */
  async revoke(id: string, at: Date): Promise<ApiKeyRow | null> {
    await this.db
      .update(apiKeys)
      .set({ revokedAt: at })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
    const rows = await this.db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
    return rows[0] ?? null;
  }

  /** Moves last_used_at forward only: concurrent API replicas never move it back. */
  async touch(id: string, at: Date): Promise<void> {
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: at })
      .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, at))));
  }
}
