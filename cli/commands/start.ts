import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import { type Config, childEnv, loadConfigOrExit } from '../../core/config';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { ApiClient } from '../api-client';
import { ChildExitedError, type ManagedChild, spawnRpa, stopChild, tailOf } from '../child-processes';
import { type EmbeddedPostgres, embeddedPostgresUrl, startEmbeddedPostgres } from '../embedded-postgres';
import { clearLauncherState, launcherSecretsKeys, writeLauncherState } from '../launcher-state';
import { type DevServer, frontendServing, startTemporalDevServer } from '../temporal-dev-server';
import { waitForRobot } from '../wait-for-robot';
import { cachedWorkflowBundle, refreshWorkflowBundleInChild } from '../workflow-bundle-cache';

const ROOT = path.resolve(__dirname, '..', '..');

const noop = () => {};

const DEMO_INPUT = {
  text: 'Invoice INV-2026-042 from Acme GmbH. Total amount due: 1,250.00 EUR including VAT.',
};

// After Ctrl-C the launcher exits 130 (SIGTERM: 143), as an interrupted command does; `npm start`
// reports the same. A failure to start, or a process that dies, exits 1.
const EXIT_ON_SIGNAL: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Seconds since this process began: the "after launch" of the output. */
function sinceLaunch(): string {
  return `${(performance.now() / 1000).toFixed(1)} s`;
}

/**
 * Everything `rpa start` started, so that one stop() ends it in order — the processes that use
 * Temporal and the database first, then the database, then Temporal — whenever the stop comes.
 */
class LocalStack {
  readonly children: ManagedChild[] = [];
  temporal: DevServer | null = null;
  /** `fresh` when this start creates the database; `ready` once it serves. */
  postgres: { database: EmbeddedPostgres; dir: string; fresh: boolean; ready: boolean } | null = null;
  /** The child process that bundles the workflows on a cache miss. */
  bundler: { process: ChildProcess; done: Promise<string> } | null = null;
  stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.bundler) {
      this.bundler.process.kill('SIGTERM');
      await this.bundler.done.catch(() => undefined);
    }
    await Promise.all(this.children.map((child) => stopChild(child)));
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

interface TemporalAt {
  address: string;
  uiUrl: string;
}

/**
 * Uses the Temporal server at TEMPORAL_ADDRESS if one answers, else starts the dev server.
 * `spawned` learns where it will be as soon as that is known: when the dev server process runs.
 */
async function startTemporal(
  config: Config,
  dataDir: string,
  stack: LocalStack,
  onFailure: (message: string) => void,
  spawned: (at: TemporalAt) => void,
  signal: AbortSignal,
): Promise<TemporalAt> {
  const address = config.TEMPORAL_ADDRESS;
  if (await frontendServing(address)) {
    const at = { address, uiUrl: config.TEMPORAL_UI_URL };
    spawned(at);
    signal.throwIfAborted();
    console.log(`✓ using the Temporal server at ${address}`);
    return at;
  }
  signal.throwIfAborted();
  console.log('… starting the Temporal dev server (SQLite in .data/temporal.db)');
  const server = await startTemporalDevServer({
    root: ROOT,
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(dataDir, 'logs', 'temporal.log'),
    namespace: config.TEMPORAL_NAMESPACE,
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

async function startDatabase(config: Config, stack: LocalStack, signal: AbortSignal): Promise<void> {
  if (config.DATABASE_URL) {
    const { migratePostgres } = require('../../db/migrate') as typeof import('../../db/migrate');
    await migratePostgres(config.DATABASE_URL);
    signal.throwIfAborted();
    console.log('✓ Postgres (DATABASE_URL) migrated');
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
function workflowBundle(
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
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolves when every child has reported ready; rejects on abort, timeout or a child's exit. */
async function allReady(children: ManagedChild[], timeoutMs: number, signal: AbortSignal): Promise<void> {
  const waiting = new AbortController();
  const timedOut = sleep(timeoutMs, undefined, { signal: AbortSignal.any([signal, waiting.signal]) }).then(
    () => {
      throw new Error(`the API and workers were not ready after ${timeoutMs / 1000} s`);
    },
  );
  try {
    await Promise.race([Promise.all(children.map((child) => child.ready)), timedOut]);
  } finally {
    waiting.abort();
    timedOut.catch(() => undefined);
  }
}

async function bringUp(
  config: Config,
  options: { demo: boolean },
  stack: LocalStack,
  onFailure: (message: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const dataDir = path.resolve(config.DATA_DIR);
  const logDir = path.join(dataDir, 'logs');
  const bundle = workflowBundle(config, stack, signal);

  // Temporal (its own process) and the database (a thread of this one) start side by side. The API
  // and the workers are spawned as soon as Temporal's address is known: loading their code, most of
  // their start-up, overlaps with Temporal's and PGlite's, and they connect when told both are up
  // (spawnRpa's go-ahead).
  let temporalSpawned: (at: TemporalAt) => void = noop;
  const temporalAt = new Promise<TemporalAt>((resolve) => {
    temporalSpawned = resolve;
  });
  const temporalUp = startTemporal(config, dataDir, stack, onFailure, temporalSpawned, signal);
  const { address: temporalAddress, uiUrl } = await Promise.race([temporalAt, temporalUp]);
  const databaseUrl = config.DATABASE_URL ?? embeddedPostgresUrl(config.PGLITE_PORT);
  const databaseUp = startDatabase(config, stack, signal);
  const servicesUp = Promise.all([temporalUp, databaseUp]);

  // Embedded mode keeps a generated secrets key in launcher.json unless SECRETS_KEYS is set.
  const secretsKeys = config.SECRETS_KEYS ?? launcherSecretsKeys(config.DATA_DIR, () => newKeyEntry('local'));
  const env = childEnv({
    SECRETS_KEYS: secretsKeys,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_UI_URL: uiUrl,
    DATABASE_URL: databaseUrl,
    // The embedded database multiplexes few connections: keep each process's pool small.
    ...(config.DATABASE_URL
      ? {}
      : { DATABASE_POOL_SIZE: '3', DATABASE_READ_URL: '', DATABASE_NAMED_STATEMENTS: 'false' }),
    LOG_PRETTY: 'false',
  });
  const spawnChild = (name: string, args: string[], goAhead: Promise<unknown>, childEnvironment = env) => {
    const child = spawnRpa(name, args, childEnvironment, logDir, goAhead);
    stack.children.push(child);
    void child.exited.then(({ code, signal: exitSignal, stopped }) => {
      if (stopped) return;
      onFailure(
        `${name} exited (${exitSignal ?? `code ${code}`}); last lines of ${child.logFile}:\n${tailOf(child.logFile)}`,
      );
    });
  };
  spawnChild('api', ['api'], servicesUp);
  spawnChild(`module-${config.MODULE_NAME}`, ['worker', '--module', config.MODULE_NAME], servicesUp);
  spawnChild(
    'control-worker',
    ['worker', '--control'],
    Promise.all([servicesUp, bundle.built]),
    bundle.path ? { ...env, WORKFLOW_BUNDLE_PATH: bundle.path } : env,
  );

  const [temporal, database] = await Promise.allSettled([temporalUp, databaseUp]);
  if (temporal.status === 'rejected') throw temporal.reason;
  if (database.status === 'rejected') throw database.reason;
  signal.throwIfAborted();
  if (!config.DATABASE_URL) writeLauncherState(config.DATA_DIR, { databaseUrl, temporalAddress });

  const { ensureLocalApiKey } = require('../local-api-key') as typeof import('../local-api-key');
  const localKey = await ensureLocalApiKey(databaseUrl, config.DATA_DIR);
  signal.throwIfAborted();
  console.log(
    localKey.created
      ? `✓ local admin API key (shown once; kept in ${path.join(config.DATA_DIR, 'launcher.json')} for the CLI):\n  ${localKey.key}`
      : `✓ local admin API key in ${path.join(config.DATA_DIR, 'launcher.json')}`,
  );

  await allReady(stack.children, 90_000, signal);
  const apiUrl = `http://${config.HOST}:${config.PORT}`;
  console.log(
    `✓ API ${apiUrl} (health: ${apiUrl}/health), control worker and module "${config.MODULE_NAME}" running`,
  );
  if (config.DASHBOARD_ENABLED) console.log(`  dashboard: ${apiUrl}/dashboard/`);
  console.log(
    `  cache: ${config.REDIS_URL ? 'Redis' : 'in-memory (set REDIS_URL for Redis)'}; logs in ${logDir}`,
  );

  if (options.demo) {
    const api = new ApiClient(apiUrl, localKey.key);
    const created = await api.createRobot({ type: 'demo', input: DEMO_INPUT });
    console.log(`… demo robot ${created.robotId} started`);
    const robot = await waitForRobot(api, created.robotId, {
      timeoutMs: 120_000,
      showProgress: process.stdout.isTTY,
      // Local and one robot: poll tightly, the demo takes about a second and a half.
      intervalMs: 100,
      signal,
    });
    const category = (robot.output?.['classify-text'] as { category?: string } | undefined)?.category;
    console.log(
      `✓ demo robot ${robot.status} in ${robot.processingTimeMs} ms (classified as "${category ?? '?'}"), ${sinceLaunch()} after launch`,
    );
    console.log(`  API:         ${apiUrl}/v1/robots/${robot.robotId}`);
    console.log(`  Temporal UI: ${temporalUiRobotUrl(uiUrl, config.TEMPORAL_NAMESPACE, robot.robotId)}`);
  } else {
    console.log(`  up ${sinceLaunch()} after launch`);
  }
  console.log(`\nAdd capacity from another terminal:  npx rpa worker --module second --capacity 5`);
  console.log(`Watch routing:                       npx rpa modules list --type demo`);
  console.log(`\nReady. Temporal Web UI: ${uiUrl}   Press Ctrl-C to stop.`);
}

async function launch(config: Config, options: { demo: boolean }): Promise<void> {
  const stack = new LocalStack();
  // Aborted when it is time to stop, for whatever reason: every wait in bringUp gives up then.
  const shutdown = new AbortController();
  let exitCode = 0;
  const stopWith = (code: number) => {
    if (shutdown.signal.aborted) return;
    exitCode = code;
    console.log('\nstopping…');
    shutdown.abort();
  };
  // A signal may come twice (the terminal sends Ctrl-C to the whole foreground group and a wrapper
  // may forward it again): the first one stops everything, the others are no news. `on`, not
  // `once`: a second one must not fall through to the default action and kill the launcher
  // before its children are stopped.
  const onSignal = (signal: NodeJS.Signals) => stopWith(EXIT_ON_SIGNAL[signal] ?? 1);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onFailure = (message: string) => {
    if (shutdown.signal.aborted) return;
    console.error(`✗ ${message}`);
    stopWith(1);
  };

  try {
    await bringUp(config, options, stack, onFailure, shutdown.signal);
    if (!shutdown.signal.aborted) {
      await new Promise((resolve) => shutdown.signal.addEventListener('abort', resolve, { once: true }));
    }
  } catch (err) {
    // After a stop was asked for, whatever was still starting fails on its way out (an aborted wait,
    // a request to an API that is going away): that is the stop, not an error to show. A child that
    // died was shown by onFailure.
    if (!shutdown.signal.aborted && !(err instanceof ChildExitedError)) {
      onFailure(err instanceof Error ? err.message : String(err));
    }
    stopWith(1);
  }
  await stack.stop();
  clearLauncherState(config.DATA_DIR);
  console.log('stopped');
  process.exit(exitCode);
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run everything on this machine: Temporal dev server, database, API, workers, and a demo robot',
    )
    .option('--no-demo', 'do not run the demo robot')
    .action(async (options: { demo: boolean }) => {
      await launch(loadConfigOrExit(), options);
    });
}
