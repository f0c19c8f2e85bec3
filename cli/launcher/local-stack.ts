import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { EmbeddedPostgres } from '../embedded-postgres';
import type { DevServer } from '../temporal-dev-server';
import type { Supervisor } from './supervisor';

/**
 * Everything `rpa start` started, so that one stop() ends it in order — the processes that use
 * Temporal and the database first, then the database, then Temporal — whenever the stop comes.
 */
export class LocalStack {
  temporal: DevServer | null = null;
  /** `fresh` when this start creates the database; `ready` once it serves. */
  postgres: { database: EmbeddedPostgres; dir: string; fresh: boolean; ready: boolean } | null = null;
  /** The child process that bundles the workflows on a cache miss. */
  bundler: { process: ChildProcess; done: Promise<string> } | null = null;
  stopping = false;

  /** The API and the workers. */
  constructor(readonly supervisor: Supervisor) {}

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.bundler) {
      this.bundler.process.kill('SIGTERM');
      await this.bundler.done.catch(() => undefined);
    }
    await this.supervisor.stop();
    if (this.postgres?.fresh && !this.postgres.ready) {
      // Still being created (a first start, seconds of work): half made, it would not open next
      // time, and it holds nothing yet. An existing database is waited for and closed properly.
      await this.postgres.database.abandon();
      rmSync(this.postgres.dir, { recursive: true, force: true });
    } else {
      await this.postgres?.database.stop();
    }
    await this.temporal?.stop();
  }
}
