import path from 'node:path';
import type { Command } from 'commander';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import { type Config, childEnv, loadConfigOrExit } from '../../core/config';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { migratePostgres } from '../../db/migrate';
import { ApiClient } from '../api-client';
import { type ManagedChild, spawnRpa, stopChild, tailOf } from '../child-processes';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../embedded-postgres';
import { clearLauncherState, launcherSecretsKeys, writeLauncherState } from '../launcher-state';
import { ensureLocalApiKey } from '../local-api-key';
import { type DevServer, startTemporalDevServer, temporalReachable } from '../temporal-dev-server';
import { waitForRobot } from '../wait-for-robot';

const ROOT = path.resolve(__dirname, '..', '..');

const DEMO_INPUT = {
  text: 'Invoice INV-2026-042 from Acme GmbH. Total amount due: 1,250.00 EUR including VAT.',
};

async function waitForApi(api: ApiClient, children: ManagedChild[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = children.find((child) => child.process.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited during start-up:\n${tailOf(dead.logFile)}`);
    try {
      if ((await api.health()).status === 'ok') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error('the API did not become healthy in time');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function launch(config: Config, options: { demo: boolean }): Promise<void> {
  const dataDir = path.resolve(config.DATA_DIR);
  const logDir = path.join(dataDir, 'logs');
  const children: ManagedChild[] = [];
  let temporal: DevServer | null = null;
  let postgres: EmbeddedPostgres | null = null;
  let stopping = false;

  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await Promise.all(children.map((child) => stopChild(child)));
    clearLauncherState(config.DATA_DIR);
    await postgres?.stop();
    await temporal?.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));

  try {
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let uiUrl = config.TEMPORAL_UI_URL;
    if (await temporalReachable(temporalAddress, '1 second')) {
      console.log(`✓ using the Temporal server at ${temporalAddress}`);
    } else {
      console.log('… starting the Temporal dev server (SQLite in .data/temporal.db)');
      temporal = await startTemporalDevServer({
        root: ROOT,
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: path.join(dataDir, 'temporal.db'),
        logFile: path.join(logDir, 'temporal.log'),
        namespace: config.TEMPORAL_NAMESPACE,
      });
      temporalAddress = temporal.address;
      uiUrl = temporal.uiUrl ?? uiUrl;
      console.log(`✓ Temporal dev server at ${temporalAddress}, Web UI ${uiUrl}`);
    }

    let databaseUrl = config.DATABASE_URL;
    if (databaseUrl) {
      await migratePostgres(databaseUrl);
      console.log('✓ Postgres (DATABASE_URL) migrated');
    } else {
      postgres = await startEmbeddedPostgres({
        dir: path.resolve(config.PGLITE_DIR),
        port: config.PGLITE_PORT,
      });
      databaseUrl = postgres.url;
      writeLauncherState(config.DATA_DIR, { databaseUrl, temporalAddress });
      console.log(
        `✓ embedded PGlite in ${config.PGLITE_DIR}, migrated, served on 127.0.0.1:${config.PGLITE_PORT}`,
      );
    }

    const localKey = await ensureLocalApiKey(databaseUrl, config.DATA_DIR);
    console.log(
      localKey.created
        ? `✓ local admin API key (shown once; kept in ${path.join(config.DATA_DIR, 'launcher.json')} for the CLI):\n  ${localKey.key}`
        : `✓ local admin API key in ${path.join(config.DATA_DIR, 'launcher.json')}`,
    );

    // Embedded mode keeps a generated secrets key in launcher.json unless SECRETS_KEYS is set.
    const secretsKeys =
      config.SECRETS_KEYS ?? launcherSecretsKeys(config.DATA_DIR, () => newKeyEntry('local'));

    const env = childEnv({
      SECRETS_KEYS: secretsKeys,
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_UI_URL: uiUrl,
      DATABASE_URL: databaseUrl,
      // The embedded database multiplexes few connections: keep each process's pool small.
      ...(postgres
        ? { DATABASE_POOL_SIZE: '3', DATABASE_READ_URL: '', DATABASE_NAMED_STATEMENTS: 'false' }
        : {}),
      LOG_PRETTY: 'false',
    });
    children.push(spawnRpa('control-worker', ['worker', '--control'], env, logDir));
    children.push(
      spawnRpa(`module-${config.MODULE_NAME}`, ['worker', '--module', config.MODULE_NAME], env, logDir),
    );
    children.push(spawnRpa('api', ['api'], env, logDir));
    for (const child of children) {
      child.process.once('exit', (code) => {
        if (stopping) return;
        console.error(
          `✗ ${child.name} exited (code ${code}); last lines of ${child.logFile}:\n${tailOf(child.logFile)}`,
        );
        void shutdown(1);
      });
    }

    const apiUrl = `http://${config.HOST}:${config.PORT}`;
    const api = new ApiClient(apiUrl, localKey.key);
    await waitForApi(api, children, 90_000);
    console.log(
      `✓ API ${apiUrl} (health: ${apiUrl}/health), control worker and module "${config.MODULE_NAME}" running`,
    );
    if (config.DASHBOARD_ENABLED) console.log(`  dashboard: ${apiUrl}/dashboard/`);
    console.log(
      `  cache: ${config.REDIS_URL ? 'Redis' : 'in-memory (set REDIS_URL for Redis)'}; logs in ${logDir}`,
    );

    if (options.demo) {
      const created = await api.createRobot({ type: 'demo', input: DEMO_INPUT });
      console.log(`… demo robot ${created.robotId} started`);
      const robot = await waitForRobot(api, created.robotId, {
        timeoutMs: 120_000,
        showProgress: process.stdout.isTTY,
      });
      const category = (robot.output?.['classify-text'] as { category?: string } | undefined)?.category;
      console.log(
        `✓ demo robot ${robot.status} in ${robot.processingTimeMs} ms (classified as "${category ?? '?'}")`,
      );
      console.log(`  API:         ${apiUrl}/v1/robots/${robot.robotId}`);
      console.log(`  Temporal UI: ${temporalUiRobotUrl(uiUrl, config.TEMPORAL_NAMESPACE, robot.robotId)}`);
    }
    console.log(`\nAdd capacity from another terminal:  npx rpa worker --module second --capacity 5`);
    console.log(`Watch routing:                       npx rpa modules list --type demo`);
    console.log(`\nReady. Temporal Web UI: ${uiUrl}   Press Ctrl-C to stop.`);
  } catch (err) {
    console.error(`✗ ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
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
