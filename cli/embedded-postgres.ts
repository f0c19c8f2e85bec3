import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** Where the embedded database serves: known before it starts, so its clients can be launched meanwhile. */
export function embeddedPostgresUrl(port: number): string {
  return `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
}

export interface EmbeddedPostgres {
  url: string;
  /** Resolves once the database is migrated and served; rejects if that fails. */
  ready: Promise<void>;
  /** Closes the database properly, after its start if it is still starting. */
  stop(): Promise<void>;
  /** Ends the thread at once, whatever it is doing: for a database nobody will open again. */
  abandon(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dir: string;
  port: number;
  /** Where empty, migrated databases are kept to begin new ones from (see the worker). */
  templates: string;
}

export type EmbeddedPostgresMessage = { type: 'ready' } | { type: 'failed'; message: string };

const WORKER = path.join(__dirname, 'embedded-postgres.worker.ts');
const REGISTER_TS = path.join(__dirname, '..', 'bin', 'register-ts.js');

/**
 * PGlite is a single-process database; the launcher owns it and serves it on loopback over the
 * Postgres wire protocol, so the API and worker processes use the same `pg` code as production.
 * It runs in a worker thread of the launcher: opening (on a first start, creating) the database is
 * seconds of WebAssembly that cannot be interrupted, and on the launcher's own thread it would hold
 * up everything else the launcher does meanwhile, a Ctrl-C included.
 */
export function startEmbeddedPostgres(options: EmbeddedPostgresOptions): EmbeddedPostgres {
  const worker = new Worker(`require(${JSON.stringify(REGISTER_TS)}); require(${JSON.stringify(WORKER)});`, {
    eval: true,
    workerData: options,
  });
  const exited = once(worker, 'exit');
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (message: EmbeddedPostgresMessage) => {
      if (message.type === 'ready') resolve();
      else reject(new Error(`the embedded database did not start: ${message.message}`));
    });
    worker.once('error', reject);
    void exited.then(() => reject(new Error('the embedded database stopped while it started')));
  });
  ready.catch(() => undefined);
  return {
    url: embeddedPostgresUrl(options.port),
    ready,
    async stop() {
      if (
        !(await ready.then(
          () => true,
          () => false,
        ))
      )
        return;
      worker.postMessage('stop');
      // Closing takes milliseconds; a thread that hangs there is ended.
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
    async abandon() {
      await worker.terminate();
    },
  };
}
