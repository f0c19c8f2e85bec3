import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openPglite } from '../db/client';
import { migrateEmbedded } from '../db/migrate';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite is a single-process database; the launcher owns it and serves it on loopback over the
 * Postgres wire protocol, so the API and worker processes use the same `pg` code as production.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
}): Promise<EmbeddedPostgres> {
  const db = await openPglite(options.dir);
  await migrateEmbedded(db);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${options.port}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
