// The embedded database's thread (see embedded-postgres.ts): opens and migrates PGlite, serves it
// on loopback, and closes it when the launcher says 'stop'.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { MIGRATIONS_FOLDER, openPglite } from '../db/client';
import { migrateEmbedded } from '../db/migrate';
import type { EmbeddedPostgresMessage, EmbeddedPostgresOptions } from './embedded-postgres';

const launcher = parentPort;
if (!launcher) throw new Error('embedded-postgres.worker.ts runs as a worker thread');
const send = (message: EmbeddedPostgresMessage) => launcher.postMessage(message);

// Creating a PGlite database (initdb) is several seconds of WebAssembly, most of a first start;
// opening a copy of one is a fraction of that. So the first database this checkout makes is copied
// to the templates directory, empty and migrated, and a later first start (an emptied .data,
// another DATA_DIR) begins from that copy. The name says what it holds: PGlite's version and the
// migrations, so a new migration or PGlite makes a new template.
function templateDir(templates: string): string {
  const pglite = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const hash = createHash('sha256').update(readFileSync(pglite));
  for (const file of readdirSync(MIGRATIONS_FOLDER, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(MIGRATIONS_FOLDER, file);
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(readFileSync(full));
  }
  return path.join(templates, hash.digest('hex').slice(0, 16));
}

/** A copy that fails leaves nothing half made behind: it is one rename from complete. */
function copyDatabase(from: string, to: string): void {
  const partial = `${to}.partial-${process.pid}`;
  try {
    cpSync(from, partial, { recursive: true });
    renameSync(partial, to);
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
}

/** The database in `dir`, opened and migrated; made from the template, or created, if there is none. */
async function openMigrated(dir: string, templates: string): Promise<PGlite> {
  const open = async () => {
    const db = await openPglite(dir);
    await migrateEmbedded(db);
    return db;
  };
  if (existsSync(dir)) return open();
  const template = templateDir(templates);
  if (existsSync(template)) {
    try {
      copyDatabase(template, dir);
      return await open();
    } catch {
      // An unusable template: make the database the long way, and a new template with it.
      rmSync(dir, { recursive: true, force: true });
      rmSync(template, { recursive: true, force: true });
    }
  }
  const created = await open();
  try {
    // Closed, the directory is a complete database to copy.
    await created.close();
    mkdirSync(templates, { recursive: true });
    // Left by a launcher stopped in the middle of a copy (a thread ended at once has no finally).
    for (const entry of readdirSync(templates)) {
      if (entry.startsWith(`${path.basename(template)}.partial-`)) {
        rmSync(path.join(templates, entry), { recursive: true, force: true });
      }
    }
    copyDatabase(dir, template);
  } catch {
    // No template (a read-only cache directory, a full disk): the next first start creates its own.
  }
  return created.closed ? open() : created;
}

async function main(options: EmbeddedPostgresOptions): Promise<void> {
  const db = await openMigrated(options.dir, options.templates);
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

main(workerData as EmbeddedPostgresOptions).catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  launcher.close();
});
