import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duration } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_NAMES } from '../core/search-attributes';

/**
 * Task-queue priorities (critical robots overtake a backlog of low ones) need the new matcher on
 * Temporal 1.28–1.29; docker-compose sets the same in deploy/dynamicconfig.yaml.
 */
export const TEMPORAL_DYNAMIC_CONFIG = ['matching.useNewMatcher=true'];

export interface DevServerOptions {
  /** Project root, where scripts/install-temporal.sh lives. */
  root: string;
  port: number;
  /** Web UI port; omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file for data that survives restarts; omit for in-memory. */
  dbFile?: string;
  logFile: string;
  namespace: string;
  /** Aborting it stops the server while it starts; the start then rejects with the abort reason. */
  signal?: AbortSignal;
  /**
   * Run it in its own process group, so a Ctrl-C in the terminal does not reach it and its owner
   * stops it when it is time (the launcher: after the workers that talk to it).
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Required on first use: the launcher spawns the dev server first and loads the client (the better
 * part of a second) while the server boots.
 */
function temporalClient(): typeof import('@temporalio/client') {
  return require('@temporalio/client') as typeof import('@temporalio/client');
}

/** True when a Temporal frontend answers at the address. */
export async function temporalReachable(address: string, timeout: Duration = '2 seconds'): Promise<boolean> {
  try {
    const connection = await temporalClient().Connection.connect({ address, connectTimeout: timeout });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * True when something accepts TCP connections at host:port. Cheap and without the Temporal client
 * (which takes a while to load): when nothing listens, a Temporal server certainly does not answer.
 */
export function portOpen(address: string, timeoutMs = 1000): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Finds or builds the Temporal CLI through the project's install script. */
export function locateTemporalCli(root: string): string {
  const out = execFileSync('bash', [path.join(root, 'scripts/install-temporal.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const binary = out.trim().split('\n').at(-1);
  if (!binary) throw new Error('scripts/install-temporal.sh printed no path');
  return binary;
}

async function waitForFrontend(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    // The port opens a moment before the frontend serves; a gRPC connection attempt before that may
    // wait out its timeout, so wait for the port first, polling tightly (it is a local process).
    if (!(await portOpen(address, 200))) {
      await sleep(50, undefined, { signal });
      continue;
    }
    try {
      const connection = await temporalClient().Connection.connect({ address, connectTimeout: '1 second' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await sleep(100, undefined, { signal });
    }
  }
  throw new Error(`temporal dev server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

/** Starts `temporal server start-dev` with our search attributes registered and waits until it answers. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const binary = locateTemporalCli(options.root);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
    ...TEMPORAL_DYNAMIC_CONFIG.flatMap((value) => ['--dynamic-config-value', value]),
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal');
  }
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn(binary, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.ownProcessGroup ?? false,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const address = `127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    log.end();
  };
  try {
    await waitForFrontend(address, child, 60_000, options.signal);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null,
    process: child,
    stop,
  };
}
