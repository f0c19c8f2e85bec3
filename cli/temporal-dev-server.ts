import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect as http2Connect } from 'node:http2';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duration } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_NAMES } from '../core/domain/search-attributes';
import { assertPortFree } from './port-holder';

/**
 * Task-queue priorities (critical robots overtake a backlog of low ones) need the new matcher on
 * Temporal 1.28–1.29; docker-compose sets the same in deploy/dynamicconfig.yaml.
 */
export const TEMPORAL_DYNAMIC_CONFIG = ['matching.useNewMatcher=true'];

/**
 * The dev server's SQLite pragmas for a file database (ADR 0043, measured by bench/dev-server-sqlite.ts).
 * WAL: a commit appends to the log instead of rewriting pages through a rollback journal, and readers
 * do not block the writer. synchronous stays FULL (SQLite's default, which Temporal keeps): the log is
 * synced at every commit, so a commit survives a power loss too, not only a crash of the process.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=full'];

export interface DevServerOptions {
  /** Project root, where scripts/install-temporal.sh lives. */
  root: string;
  port: number;
  /** Web UI port; omit for a headless server (tests). */
  uiPort?: number;
  /** SQLite file for data that survives restarts; omit for in-memory. */
  dbFile?: string;
  /** The file's pragmas (`name=value`), DEV_SERVER_SQLITE_PRAGMAS unless given (the bench compares). */
  sqlitePragmas?: readonly string[];
  logFile: string;
  namespace: string;
  /** Aborting it stops the server while it starts; the start then rejects with the abort reason. */
  signal?: AbortSignal;
  /**
   * Run it in its own process group, so a Ctrl-C in the terminal does not reach it and its owner
   * stops it when it is time (the launcher: after the workers that talk to it).
   */
  ownProcessGroup?: boolean;
  /**
   * The namespace's workflow retention in days, set once the server answers (the dev server has no
   * flag for it; its namespaces start with one day). Absent: left as the server made it.
   */
  retentionDays?: number;
  /** Called once the process runs, with the addresses it will serve at when it is ready. */
  onSpawned?: (at: { address: string; uiUrl: string | null }) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** True when a Temporal frontend answers at the address (through the client, TLS-less). */
export async function temporalReachable(address: string, timeout: Duration = '2 seconds'): Promise<boolean> {
  // Required on use: the launcher, which imports this file, never needs the client.
  const { Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  try {
    const connection = await Connection.connect({ address, connectTimeout: timeout });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

const HEALTH_CHECK_REQUEST = (() => {
  // grpc.health.v1.HealthCheckRequest { service: "temporal.api.workflowservice.v1.WorkflowService" },
  // in a gRPC frame: no compression flag, 4-byte length, then the protobuf (field 1, a string).
  const service = Buffer.from('temporal.api.workflowservice.v1.WorkflowService');
  const message = Buffer.concat([Buffer.from([0x0a, service.length]), service]);
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
})();
/** HealthCheckResponse { status: SERVING }. */
const SERVING = Buffer.from([0x08, 0x01]);

/**
 * True when the Temporal frontend at the address reports its workflow service SERVING on the
 * standard gRPC health service. One HTTP/2 request, without the Temporal client: the launcher waits
 * with it, and loading the client (protobuf definitions for the whole API) would cost it the better
 * part of a second of CPU on the thread that also opens the embedded database.
 */
export function frontendServing(address: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const session = http2Connect(`http://${address}`);
    let settled = false;
    const done = (serving: boolean) => {
      if (settled) return;
      settled = true;
      session.destroy();
      resolve(serving);
    };
    session.once('error', () => done(false));
    const request = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    request.setTimeout(timeoutMs, () => done(false));
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('trailers', (trailers) => {
      done(trailers['grpc-status'] === '0' && Buffer.concat(chunks).subarray(5).equals(SERVING));
    });
    request.once('end', () => done(false));
    request.once('error', () => done(false));
    request.end(HEALTH_CHECK_REQUEST);
  });
}

/**
 * Finds or builds the Temporal CLI through the project's install script. `ownProcessGroup`: run the
 * script outside the caller's process group, so that a Ctrl-C meant for the caller does not kill it
 * halfway (the caller decides what a Ctrl-C stops).
 */
export function locateTemporalCli(root: string, ownProcessGroup = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const script = spawn('bash', [path.join(root, 'scripts/install-temporal.sh')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: ownProcessGroup,
    });
    let out = '';
    script.stdout?.on('data', (chunk) => {
      out += chunk;
    });
    script.once('error', reject);
    script.once('close', (code) => {
      const binary = out.trim().split('\n').at(-1);
      if (code === 0 && binary) resolve(binary);
      else reject(new Error(`scripts/install-temporal.sh failed (code ${code}); see its output above`));
    });
  });
}

async function waitForFrontend(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    // Polled tightly: it is a local process, ready within a second or two, and each check is cheap.
    if (await frontendServing(address, 500)) return;
    await sleep(50, undefined, { signal });
  }
  throw new Error(`temporal dev server at ${address} not serving after ${timeoutMs} ms`);
}

/**
 * `temporal operator namespace update --retention`: the CLI binary at hand, so the launcher need not
 * load the Temporal client for one call. Retried briefly: the namespace may lag the frontend.
 */
async function setRetention(
  binary: string,
  address: string,
  namespace: string,
  days: number,
  signal?: AbortSignal,
): Promise<void> {
  const args = ['operator', 'namespace', 'update', '--address', address, '--namespace', namespace];
  args.push('--retention', `${days * 24}h`);
  let failure = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    signal?.throwIfAborted();
    const run = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    run.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    run.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | null>((resolve) => {
      run.once('error', () => resolve(-1));
      run.once('close', resolve);
    });
    if (code === 0) return;
    failure = output.trim();
    await sleep(250, undefined, { signal });
  }
  throw new Error(`setting the retention of namespace ${namespace} to ${days} days failed: ${failure}`);
}

/**
 * Starts `temporal server start-dev` with our search attributes registered and waits until it answers.
 * Its ports must be free (else PortInUseError, naming the holder): a server already listening there,
 * such as an orphan of an aborted run, would answer the readiness check while the new one failed to
 * bind, and be used in its place until it died.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  await assertPortFree(options.port, "the Temporal dev server's frontend");
  if (options.uiPort) await assertPortFree(options.uiPort, "the Temporal dev server's Web UI");
  const binary = await locateTemporalCli(options.root, options.ownProcessGroup);
  options.signal?.throwIfAborted();
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
    args.push('--db-filename', options.dbFile);
    for (const pragma of options.sqlitePragmas ?? DEV_SERVER_SQLITE_PRAGMAS)
      args.push('--sqlite-pragma', pragma);
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
  const uiUrl = options.uiPort ? `http://127.0.0.1:${options.uiPort}` : null;
  options.onSpawned?.({ address, uiUrl });
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
    if (options.retentionDays !== undefined)
      await setRetention(binary, address, options.namespace, options.retentionDays, options.signal);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl,
    process: child,
    stop,
  };
}
