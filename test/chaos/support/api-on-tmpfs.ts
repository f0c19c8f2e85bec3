import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../../core/config';
import { freePort } from '../../support/dovecot';

// A real `rpa api` process whose DOCUMENTS_DIR is a small tmpfs, mounted in a mount namespace of its
// own: the host's mounts are untouched, and the tmpfs goes away with the process (no unmount to
// forget). As root a plain mount namespace will do; otherwise, or where root lacks CAP_SYS_ADMIN, a
// user namespace in which we are root.

const rpa = path.join(__dirname, '..', '..', '..', 'bin', 'rpa');
const TMPFS_MAGIC = 0x01021994;

const NAMESPACES: { name: string; args: string[] }[] = [
  ...(process.getuid?.() === 0 ? [{ name: 'unshare --mount', args: ['--mount'] }] : []),
  { name: 'unshare --user --map-root-user --mount', args: ['--user', '--map-root-user', '--mount'] },
];

const MOUNT = 'mount -t tmpfs -o "size=$TMPFS_SIZE,mode=0755" tmpfs "$DOCUMENTS_DIR"';

/** The unshare arguments that can mount a tmpfs on `dir` here; throws naming what is missing. */
function namespaceArgs(dir: string): string[] {
  const tried: string[] = [];
  for (const { name, args } of NAMESPACES) {
    const probe = spawnSync('unshare', [...args, 'sh', '-c', MOUNT], {
      env: { ...process.env, TMPFS_SIZE: '64k', DOCUMENTS_DIR: dir },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (probe.status === 0) return args;
    tried.push(`${name}: ${probe.error?.message ?? probe.stderr.trim()}`);
  }
  throw new Error(
    'the disk-full scenario needs a small tmpfs in a private mount namespace, and none could be made ' +
      `(${tried.join('; ')}). It needs util-linux's unshare and mount, and either root with ` +
      'CAP_SYS_ADMIN or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, ' +
      'user.max_user_namespaces > 0).',
  );
}

export interface ApiOnTmpfs {
  url: string;
  process: ChildProcess;
  /** DOCUMENTS_DIR as this process sees it: the API's tmpfs, through /proc/<pid>/root. */
  documentsDir: string;
  /** Bytes the tmpfs still has room for. */
  freeBytes(): number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `rpa api` on `config`'s services with DOCUMENTS_DIR = `dir`, a tmpfs of `size` (e.g. 3m). */
export async function startApiOnTmpfs(config: Config, dir: string, size: string): Promise<ApiOnTmpfs> {
  const args = namespaceArgs(dir);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    DATABASE_URL: config.DATABASE_URL,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: config.REDIS_URL,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    CONTROL_TASK_QUEUE: config.CONTROL_TASK_QUEUE,
    DOCUMENTS_DIR: dir,
    TMPFS_SIZE: size,
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
  // exec: the node process is the child itself, so its pid names the namespace's /proc root.
  const child = spawn(
    'unshare',
    [...args, 'sh', '-c', `${MOUNT} && exec "$0" "$@"`, process.execPath, rpa, 'api'],
    {
      env,
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`rpa api on a tmpfs exited before it served:\n${output}`);
    }
    const ready = await fetch(`${url}/health/live`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rpa api on a tmpfs did not answer within 60 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const documentsDir = `/proc/${child.pid}/root${path.resolve(dir)}`;
  const fs = statfsSync(documentsDir);
  if (fs.type !== TMPFS_MAGIC) {
    await stop();
    throw new Error(`${documentsDir} is not the tmpfs (statfs type ${fs.type.toString(16)})`);
  }
  return {
    url,
    process: child,
    documentsDir,
    freeBytes() {
      const now = statfsSync(documentsDir);
      return now.bavail * now.bsize;
    },
    output: () => output,
    stop,
  };
}
