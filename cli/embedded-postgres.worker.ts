// The embedded database's thread (see embedded-postgres.ts): opens and migrates PGlite, serves it
// on loopback, and closes it when the launcher says 'stop'.
import { parentPort, workerData } from 'node:worker_threads';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { openPglite } from '../db/client';
import { migrateEmbedded } from '../db/migrate';
import type { EmbeddedPostgresMessage } from './embedded-postgres';

const launcher = parentPort;
if (!launcher) throw new Error('embedded-postgres.worker.ts runs as a worker thread');
const send = (message: EmbeddedPostgresMessage) => launcher.postMessage(message);

async function main(options: { dir: string; port: number }): Promise<void> {
  const db = await openPglite(options.dir);
  await migrateEmbedded(db);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: 32 });
  await server.start();
  launcher?.once('message', () => {
    void (async () => {
      await server.stop();
      await db.close();
      // Nothing keeps the thread alive now: it ends.
      launcher.close();
    })();
  });
  send({ type: 'ready' });
}

main(workerData as { dir: string; port: number }).catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  launcher.close();
});
