import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Pool } from 'pg';
import type { Config } from '../core/config';
import { watchPool } from '../core/observability/metrics';
import { MeteredPool } from './metered-pool';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** Write and read handles; the read handle is a replica when DATABASE_READ_URL is set. */
export interface DatabaseHandle {
  readonly kind: 'postgres' | 'pglite';
  readonly db: Database;
  readonly readDb: Database;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

export function createPostgresPool(url: string, max: number, name = 'write', namedStatements = true): Pool {
  const pool = new MeteredPool(
    name,
    {
      connectionString: url,
      max,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      // Bounded: a database that stops answering must turn into errors, never hung requests.
      query_timeout: 15_000,
    },
    namedStatements,
  );
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  const unwatch = watchPool(name, pool, max);
  const end = pool.end.bind(pool);
  pool.end = (async () => {
    unwatch();
    await end();
  }) as Pool['end'];
  return pool;
}

function fromPostgres(
  config: Pick<
    Config,
    'DATABASE_URL' | 'DATABASE_READ_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_READ_POOL_SIZE'
  > & { DATABASE_NAMED_STATEMENTS?: boolean },
  url: string,
) {
  const writePool = createPostgresPool(
    url,
    config.DATABASE_POOL_SIZE,
    'write',
    config.DATABASE_NAMED_STATEMENTS ?? true,
  );
  const readPool = config.DATABASE_READ_URL
    ? createPostgresPool(
        config.DATABASE_READ_URL,
        config.DATABASE_READ_POOL_SIZE,
        'read',
        config.DATABASE_NAMED_STATEMENTS ?? true,
      )
    : writePool;
  const db = drizzlePg(writePool, { schema }) as unknown as Database;
  const readDb = readPool === writePool ? db : (drizzlePg(readPool, { schema }) as unknown as Database);
  return {
    kind: 'postgres' as const,
    db,
    readDb,
    async ping() {
      await writePool.query('select 1');
      return true;
    },
    async close() {
      await writePool.end();
      if (readPool !== writePool) await readPool.end();
    },
  };
}

/** PGlite is single-process: used in-process by `rpa migrate` and by the launcher, which serves it to children. */
export async function openPglite(dir: string): Promise<PGlite> {
  // Loaded on use: every API and worker process imports this file, and only the embedded mode needs
  // PGlite's WebAssembly build (a few hundred ms of each process's start-up).
  const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const client = new PGlite(dir);
  await client.waitReady;
  return client;
}

export function fromPglite(client: PGlite): DatabaseHandle {
  const { drizzle: drizzlePglite } = require('drizzle-orm/pglite') as typeof import('drizzle-orm/pglite');
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    kind: 'pglite',
    db,
    readDb: db,
    async ping() {
      await client.query('select 1');
      return true;
    },
    async close() {
      await client.close();
    },
  };
}

export async function createDatabase(
  config: Pick<
    Config,
    'DATABASE_URL' | 'DATABASE_READ_URL' | 'DATABASE_POOL_SIZE' | 'DATABASE_READ_POOL_SIZE' | 'PGLITE_DIR'
  > & { DATABASE_NAMED_STATEMENTS?: boolean },
): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) return fromPostgres(config, config.DATABASE_URL);
  return fromPglite(await openPglite(config.PGLITE_DIR));
}
