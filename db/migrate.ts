import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { grantAppRole } from './app-role';
import { createPostgresPool, MIGRATIONS_FOLDER } from './client';

// Any number of processes may start at once (replicas, tests): an advisory lock lets one migrate.
const MIGRATION_LOCK_ID = 727_001;

/**
 * Applies the migrations as the role of `url` (the tables' owner), then, with `appRole`, grants that
 * role the application's privileges (db/app-role.ts).
 */
export async function migratePostgres(
  url: string,
  options: { appRole?: string | undefined } = {},
): Promise<void> {
  const pool = createPostgresPool(url, 1);
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await migratePg(drizzlePg(client), { migrationsFolder: MIGRATIONS_FOLDER });
    if (options.appRole) await grantAppRole(client, options.appRole);
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    client.release();
    await pool.end();
  }
}

export async function migrateEmbedded(client: PGlite): Promise<void> {
  await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
}
