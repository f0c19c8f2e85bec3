import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import { type Config, childEnv, loadConfigOrExit } from '../../core/config';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { ApiClient } from '../api-client';
import { ChildExitedError, type ManagedChild, spawnRpa } from '../child-processes';
import { embeddedPostgresUrl } from '../embedded-postgres';
import { LocalStack } from '../launcher/local-stack';
import { DEFAULT_RESTART_POLICY } from '../launcher/restart-policy';
import { startDatabase, startTemporal, type TemporalAt, workflowBundle } from '../launcher/services';
import { Supervisor } from '../launcher/supervisor';
import { clearLauncherState, launcherSecretsKeys, writeLauncherState } from '../launcher-state';
import { waitForRobot } from '../wait-for-robot';

const noop = () => {};

const DEMO_INPUT = {
  text: 'Invoice INV-2026-042 from Acme GmbH. Total amount due: 1,250.00 EUR including VAT.',
};

// After Ctrl-C the launcher exits 130 (SIGTERM: 143), as an interrupted command does; `npm start`
// reports the same. A failure to start, or a child that keeps crashing (cli/launcher/supervisor.ts),
// exits 1.
const EXIT_ON_SIGNAL: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** Seconds since this process began: the "after launch" of the output. */
function sinceLaunch(): string {
  return `${(performance.now() / 1000).toFixed(1)} s`;
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
  const spawnChild = (
    name: string,
    label: string,
    args: string[],
    goAhead: Promise<unknown>,
    childEnvironment = env,
  ) => {
    // A restart is spawned once the services are up: its go-ahead has come already.
    stack.supervisor.add({
      name,
      label,
      spawn: () => spawnRpa(name, args, childEnvironment, logDir, goAhead),
    });
  };
  spawnChild('api', 'API', ['api'], servicesUp);
  spawnChild(
    `module-${config.MODULE_NAME}`,
    `module "${config.MODULE_NAME}" worker`,
    ['worker', '--module', config.MODULE_NAME],
    servicesUp,
  );
  spawnChild(
    'control-worker',
    'control worker',
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

  await allReady(stack.supervisor.children, 90_000, signal);
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
  const supervisor = new Supervisor(DEFAULT_RESTART_POLICY, {
    log: (line) => console.log(line),
    fail: onFailure,
  });
  const stack = new LocalStack(supervisor);

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
