import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { migratePostgres } from '../../../db/migrate';
import { freePort } from './free-port';

// A PostgreSQL server owned by one scenario (initdb into a temp dir, its own port, trust auth),
// so the scenario can stop and start the whole server for real without touching the machine's.
// initdb and postgres refuse to run as root: as root they run as the `postgres` user.

const POSTGRES_USER = 'postgres';

/** The newest installed server's bin directory (/usr/lib/postgresql/<version>/bin). */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return path.join(root, newest, 'bin');
}

export type StopMode = 'smart' | 'fast' | 'immediate';

export class TestPostgresServer {
  readonly dir: string;
  private readonly dataDir: string;
  private readonly bin = binDir();
  private readonly asRoot = process.getuid?.() === 0;
  port = 0;

  constructor(label: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), `rpa-chaos-pg-${label}-`));
    this.dataDir = path.join(this.dir, 'data');
  }

  /** `postgres://postgres@127.0.0.1:<port>/<name>` */
  url(database: string): string {
    return `postgres://${POSTGRES_USER}@127.0.0.1:${this.port}/${database}`;
  }

  private run(tool: string, args: string[]): string {
    const command = path.join(this.bin, tool);
    const [file, argv] = this.asRoot
      ? ['runuser', ['-u', POSTGRES_USER, '--', command, ...args]]
      : [command, args];
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
  }

  /** initdb, start, create `database` and migrate it; returns its URL. */
  async init(database: string): Promise<string> {
    if (this.asRoot) {
      chmodSync(this.dir, 0o777); // the postgres user writes its data directory and log here
      execFileSync('chown', [POSTGRES_USER, this.dir]);
    }
    this.run('initdb', ['-D', this.dataDir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--no-sync']);
    this.port = await freePort();
    this.start();
    const admin = new PgClient({ connectionString: this.url('postgres') });
    await admin.connect();
    try {
      await admin.query(`create database ${database}`);
    } finally {
      await admin.end();
    }
    const url = this.url(database);
    await migratePostgres(url);
    return url;
  }

  /** Starts the server on its port and waits until it accepts connections. */
  start(): void {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', [
      'start',
      '-D',
      this.dataDir,
      '-w',
      '-t',
      '60',
      '-l',
      path.join(this.dir, 'server.log'),
      '-o',
      options,
    ]);
  }

  /** pg_ctl stop: `fast` ends sessions cleanly, `immediate` is a crash (recovery on the next start). */
  stop(mode: StopMode = 'fast'): void {
    this.run('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60']);
  }

  get running(): boolean {
    try {
      this.run('pg_ctl', ['status', '-D', this.dataDir]);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    if (existsSync(this.dataDir) && this.running) this.stop('immediate');
    if (!process.env.CHAOS_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
