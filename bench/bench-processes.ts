// The processes an HTTP bench measures, each apart from the bench (which drives them) and from the
// load generator (bench/autocannon.ts): the real `rpa api`, and the baseline servers of
// bench/baselines/. One process per server, so that no server shares an event loop with the
// generator or with the other side of the comparison.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { type ManagedChild, spawnRpa, stopChild } from '../cli/child-processes';
import { type Config, childEnv } from '../core/config';
import type { BaselineListening } from './baselines/serve-baseline';
import { type Defer, ROOT, type RunMode } from './bench-support';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * `rpa api` on a free loopback port with the run's configuration (its database, Redis prefix,
 * Temporal, limits), production mode, LOG_LEVEL warn (as the throughput bench: access logs are not
 * written); resolves with its URL once it listens. Its log goes to .data/bench/<name>[-smoke]/api.log.
 * Stopped (SIGTERM, then SIGKILL) at the end of the run.
 */
export async function startApiProcess(name: string, config: Config, mode: RunMode, defer: Defer) {
  const logDir = path.join(ROOT, '.data', 'bench', mode.smoke ? `${name}-smoke` : name);
  rmSync(logDir, { recursive: true, force: true });
  const port = await freePort();
  const env = childEnv({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: config.DATABASE_URL ?? '',
    DATABASE_READ_URL: '',
    REDIS_URL: config.REDIS_URL ?? '',
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    SECRETS_KEYS: config.SECRETS_KEYS ?? '',
    CONTROL_TASK_QUEUE: config.CONTROL_TASK_QUEUE,
    RATE_LIMIT_PER_KEY: String(config.RATE_LIMIT_PER_KEY),
    MAX_RUNNING_ROBOTS_PER_KEY: String(config.MAX_RUNNING_ROBOTS_PER_KEY),
  });
  const api: ManagedChild = spawnRpa('api', ['api'], env, logDir);
  process.once('exit', () => api.process.kill('SIGKILL')); // only if the clean-up was cut short
  defer(() => stopChild(api));
  await api.ready;
  return { url: `http://127.0.0.1:${port}`, process: api };
}

/**
 * Runs bench/baselines/<script> (tsx) in a process of its own with `env` added; resolves with its
 * URL once it reports its port. Stopped at the end of the run.
 */
export async function spawnBaseline(script: string, env: Record<string, string>, defer: Defer) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'baselines', script)],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (message: Partial<BaselineListening>) => {
      if (message.type === 'listening' && typeof message.port === 'number') resolve(message.port);
    });
    void exited.then(() => reject(new Error(`baseline ${script} exited before it listened`)));
  });
  return `http://127.0.0.1:${port}`;
}
