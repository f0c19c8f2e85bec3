import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  describeTemporalTarget,
  temporalConnectionOptions,
} from '../../core/adapters/temporal/connection.options';
import type { Config } from '../../core/config';
import { startEmbeddedPostgres } from '../embedded-postgres';
import { frontendServing, startTemporalDevServer } from '../temporal-dev-server';
import { cachedWorkflowBundle, refreshWorkflowBundleInChild } from '../workflow-bundle-cache';
import type { LocalStack } from './local-stack';

const ROOT = path.resolve(__dirname, '..', '..');

const noop = () => {};

export interface TemporalAt {
  address: string;
  uiUrl: string;
}

/** An error's message; fs errors are not `instanceof Error` in every realm (a test's VM context). */
function reasonOf(err: unknown): string {
  return typeof err === 'object' && err !== null && 'message' in err ? String(err.message) : String(err);
}

/** How long the launcher waits for a TLS-configured cluster to answer before it gives up. */
const TLS_CLUSTER_TIMEOUT = '5 seconds';

/**
 * The cluster TLS or an API key is configured for, reached the way the processes will reach it (the
 * Temporal client with the built options): the plain health check cannot speak TLS, and a dev server
 * is never what such a configuration means, so one that does not answer stops the start.
 */
async function useTlsCluster(
  config: Config,
  options: TemporalOptions,
  spawned: (at: TemporalAt) => void,
  signal: AbortSignal,
) {
  // Required on use: loading the client costs the plain path's start a second of CPU.
  const { Connection } = require('@temporalio/client') as typeof import('@temporalio/client');
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: TLS_CLUSTER_TIMEOUT });
    await connection.close();
  } catch (err) {
    signal.throwIfAborted();
    throw new Error(
      `Temporal at ${describeTemporalTarget(config)} did not answer within ${TLS_CLUSTER_TIMEOUT}: ${reasonOf(err)}\n` +
        '  TLS or an API key is configured (TEMPORAL_TLS*, TEMPORAL_API_KEY or a TEMPORAL_CONFIG_FILE profile), ' +
        'so no local dev server is started in its place; check the address and the certificates, or unset ' +
        'those settings to run a local dev server',
      { cause: err },
    );
  }
  signal.throwIfAborted();
  const at = { address: config.TEMPORAL_ADDRESS, uiUrl: config.TEMPORAL_UI_URL };
  spawned(at);
  console.log(`✓ using the Temporal server at ${describeTemporalTarget(config)}`);
  return at;
}

type TemporalOptions = ReturnType<typeof temporalConnectionOptions>;

/**
 * The connection options when TLS or an API key is configured, else null (plain text); TLS material
 * that cannot be read is an error of its own.
 */
function tlsOptions(config: Config): TemporalOptions | null {
  let options: TemporalOptions;
  try {
    options = temporalConnectionOptions(config);
  } catch (err) {
    // Only configured TLS material is read: a file named but missing or unreadable.
    throw new Error(
      `the TLS material configured for Temporal at ${config.TEMPORAL_ADDRESS} cannot be read: ${reasonOf(err)}`,
      { cause: err },
    );
  }
  return options.tls !== undefined || options.apiKey !== undefined ? options : null;
}

/** A loopback address (or `localhost`): the only ones a local dev server can stand in for. */
export function onThisMachine(address: string): boolean {
  const host = address
    .slice(0, address.lastIndexOf(':'))
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  return host === 'localhost' || host === '::1' || host === '0.0.0.0' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Uses the Temporal server at TEMPORAL_ADDRESS if one answers, else starts the dev server when the
 * address is on this machine (another host's address that does not answer stops the start); with
 * TLS or an API key configured, only that server (useTlsCluster).
 * `spawned` learns where it will be as soon as that is known: when the dev server process runs.
 */
export async function startTemporal(
  config: Config,
  dataDir: string,
  stack: LocalStack,
  onFailure: (message: string) => void,
  spawned: (at: TemporalAt) => void,
  signal: AbortSignal,
): Promise<TemporalAt> {
  const address = config.TEMPORAL_ADDRESS;
  const tls = tlsOptions(config);
  if (tls) return useTlsCluster(config, tls, spawned, signal);
  if (await frontendServing(address)) {
    const at = { address, uiUrl: config.TEMPORAL_UI_URL };
    spawned(at);
    signal.throwIfAborted();
    console.log(`✓ using the Temporal server at ${address}`);
    return at;
  }
  signal.throwIfAborted();
  if (!onThisMachine(address)) {
    throw new Error(
      `Temporal at ${address} (TEMPORAL_ADDRESS) did not answer\n` +
        '  it names another host, so no local dev server is started in its place (processes would run ' +
        'robots on a server you did not mean); start that server or fix the address, or unset ' +
        'TEMPORAL_ADDRESS to run a local dev server',
    );
  }
  console.log('… starting the Temporal dev server (SQLite in .data/temporal.db)');
  const server = await startTemporalDevServer({
    root: ROOT,
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(dataDir, 'logs', 'temporal.log'),
    namespace: config.TEMPORAL_NAMESPACE,
    // Histories kept as long as robot rows (a type with a longer retentionDays: `rpa temporal setup`).
    retentionDays: config.ROBOT_RETENTION_DAYS,
    ownProcessGroup: true,
    onSpawned: (at) => spawned({ address: at.address, uiUrl: at.uiUrl ?? config.TEMPORAL_UI_URL }),
    signal,
  });
  stack.temporal = server;
  server.process.once('exit', (code, exitSignal) => {
    if (!stack.stopping) onFailure(`the Temporal dev server exited (${exitSignal ?? `code ${code}`})`);
  });
  console.log(`✓ Temporal dev server at ${server.address}, Web UI ${server.uiUrl}`);
  return { address: server.address, uiUrl: server.uiUrl ?? config.TEMPORAL_UI_URL };
}

export async function startDatabase(config: Config, stack: LocalStack, signal: AbortSignal): Promise<void> {
  const { migrationTarget } = require('../../db/app-role') as typeof import('../../db/app-role');
  const target = migrationTarget(config);
  if (target) {
    const { migratePostgres } = require('../../db/migrate') as typeof import('../../db/migrate');
    await migratePostgres(target.url, { appRole: target.appRole });
    signal.throwIfAborted();
    console.log(
      `✓ Postgres (DATABASE_URL) migrated${target.appRole ? ` as its owner; ${target.appRole} granted the app's privileges` : ''}`,
    );
    return;
  }
  const dir = path.resolve(config.PGLITE_DIR);
  // PGlite makes its directory but not the ones above it (.data on a first start).
  mkdirSync(path.dirname(dir), { recursive: true });
  const fresh = !existsSync(dir);
  const postgres = {
    database: startEmbeddedPostgres({
      dir,
      port: config.PGLITE_PORT,
      templates: path.join(config.LAUNCHER_CACHE_DIR, 'rpa-pglite'),
    }),
    dir,
    fresh,
    ready: false,
  };
  stack.postgres = postgres;
  void postgres.database.ready.then(() => {
    postgres.ready = true;
  }, noop);
  // A stop does not wait for this: LocalStack.stop decides what becomes of the database.
  await abortable(postgres.database.ready, signal);
  signal.throwIfAborted();
  console.log(
    `✓ embedded PGlite in ${config.PGLITE_DIR}, migrated, served on 127.0.0.1:${config.PGLITE_PORT}`,
  );
}

/**
 * The control worker's workflow bundle: the configured one, the cached one, or one that a child
 * process builds into the cache while Temporal and the database start (`built` settles when it is
 * done). If that build fails there is no file at `path`, and the control worker bundles the
 * workflows itself, as it would without the cache.
 */
export function workflowBundle(
  config: Config,
  stack: LocalStack,
  signal: AbortSignal,
): { path: string | undefined; built: Promise<unknown> } {
  if (config.WORKFLOW_BUNDLE_PATH) return { path: config.WORKFLOW_BUNDLE_PATH, built: Promise.resolve() };
  const cacheDir = path.join(config.LAUNCHER_CACHE_DIR, 'rpa-workflows');
  const cached = cachedWorkflowBundle(cacheDir);
  if (cached) return { path: cached, built: Promise.resolve() };
  const bundler = refreshWorkflowBundleInChild(cacheDir);
  stack.bundler = bundler;
  signal.addEventListener('abort', () => bundler.process.kill('SIGTERM'), { once: true });
  const built = bundler.done.catch((err: unknown) => {
    if (!signal.aborted) {
      console.error(`! ${err instanceof Error ? err.message : String(err)}`);
      console.error('  the control worker bundles the workflows itself');
    }
  });
  return { path: bundler.bundle, built };
}

/** The promise, or its rejection with the signal's reason once that is aborted (the work goes on). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
