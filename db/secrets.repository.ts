import { asc, eq, ne } from 'drizzle-orm';
import type { Sealed } from '../core/adapters/crypto/secret-box';
import type { Database } from './client';
import { type SecretRow, secrets } from './schema';

export class SecretsRepository {
  constructor(private readonly db: Database) {}

  /** Insert or replace; `created` tells which. */
  async put(name: string, sealed: Sealed): Promise<{ row: SecretRow; created: boolean }> {
    const existed =
      (await this.db.select({ name: secrets.name }).from(secrets).where(eq(secrets.name, name))).length > 0;
    const rows = await this.db
      .insert(secrets)
      .values({ name, ...sealed })
      .onConflictDoUpdate({ target: secrets.name, set: { ...sealed, updatedAt: new Date() } })
      .returning();
    const row = rows[0];
    if (!row) throw new Error('secret upsert returned no row');
    return { row, created: !existed };
  }

  async get(name: string): Promise<SecretRow | null> {
    const rows = await this.db.select().from(secrets).where(eq(secrets.name, name)).limit(1);
    return rows[0] ?? null;
  }

  async list(): Promise<SecretRow[]> {
    return this.db.select().from(secrets).orderBy(asc(secrets.name));
  }

  /** Secrets not yet under `keyId`: what a rotation re-encrypts. */
  async notUnder(keyId: string): Promise<SecretRow[]> {
    return this.db.select().from(secrets).where(ne(secrets.keyId, keyId));
  }

  async replaceSealed(name: string, sealed: Sealed): Promise<void> {
    await this.db.update(secrets).set(sealed).where(eq(secrets.name, name));
  }

  async delete(name: string): Promise<boolean> {
    const rows = await this.db
      .delete(secrets)
      .where(eq(secrets.name, name))
      .returning({ name: secrets.name });
    return rows.length > 0;
  }
}
