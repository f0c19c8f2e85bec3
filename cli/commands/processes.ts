import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadConfigOrExit, type ProductionNeed } from '../../core/config';
import { createLogger } from '../../core/observability/logger';
import { joinLauncher, launcherGoAhead, reportReady } from '../launcher-link';
import { withRunningLauncher } from '../launcher-state';

// Each role's code is required when its command runs, not imported up front: `rpa api` then never
// loads the workers (Temporal's worker runtime, OCR, mail) nor a worker the API, which halves the
// start-up of every process `rpa start` launches.

// With NODE_ENV=production the API and the workers refuse to start on one-machine fallbacks (no
// Redis, no secrets key, the local Temporal default); `rpa migrate` needs only the database.
const SERVING_NEEDS: ProductionNeed[] = ['redis', 'secrets', 'temporal'];

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return parsed;
}

function moduleName(value: string): string {
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(value)) {
    throw new InvalidArgumentError('must be lowercase letters, digits and dashes, starting with a letter');
  }
  return value;
}

/** `rpa api`, `rpa worker`, `rpa migrate`: one long-running role per process. */
export function registerProcessCommands(program: Command): void {
  program
    .command('api')
    .description('run the HTTP API (PORT, default 3000)')
    .action(async () => {
      joinLauncher();
      const { startApi } = require('../../api/server') as typeof import('../../api/server');
      await launcherGoAhead();
      const config = withRunningLauncher(loadConfigOrExit(SERVING_NEEDS));
      const logger = createLogger(config, 'api', undefined, { asyncStdout: true });
      const api = await startApi(config, logger);
      logger.info({ url: api.url }, 'api listening');
      reportReady();
      const shutdown = async () => {
        logger.info('api shutting down');
        await api.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown());
      process.once('SIGINT', () => void shutdown());
    });

  program
    .command('worker')
    .description('run a worker: the control worker (--control) or a module worker (--module NAME)')
    .option('--control', 'run the control worker (robot workflows, persistence, selection)')
    .option('--module <name>', 'run a module worker polling task queue module-<name>', moduleName)
    .option('--capacity <n>', 'max concurrent step activities of this replica', positiveInt)
    .option('--types <list>', 'robot types this module supports, comma-separated (default: any)')
    .action(async (options: { control?: boolean; module?: string; capacity?: number; types?: string }) => {
      if (Boolean(options.control) === Boolean(options.module)) {
        program.error('error: give exactly one of --control or --module <name>', { exitCode: 2 });
      }
      joinLauncher();
      const config = withRunningLauncher(loadConfigOrExit(SERVING_NEEDS));
      if (options.control) {
        const { runControlWorker } =
          require('../../workers/control.worker') as typeof import('../../workers/control.worker');
        await launcherGoAhead();
        await runControlWorker(config, createLogger(config, 'control-worker'), reportReady);
        return;
      }
      const { runModuleWorker } =
        require('../../workers/module.worker') as typeof import('../../workers/module.worker');
      await launcherGoAhead();
      const name = options.module ?? config.MODULE_NAME;
      await runModuleWorker(
        config,
        createLogger(config, `module-${name}`),
        {
          name,
          capacity: options.capacity ?? config.MODULE_CAPACITY,
          robotTypes: (options.types ?? '')
            .split(',')
            .map((type) => type.trim())
            .filter(Boolean),
        },
        reportReady,
      );
    });

  program
    .command('migrate')
    .description(
      'apply database migrations (DATABASE_MIGRATION_URL, else DATABASE_URL, else the embedded PGlite in PGLITE_DIR)',
    )
    .action(async () => {
      const { migrateEmbedded, migratePostgres } =
        require('../../db/migrate') as typeof import('../../db/migrate');
      const { migrationTarget } = require('../../db/app-role') as typeof import('../../db/app-role');
      const { openPglite } = require('../../db/client') as typeof import('../../db/client');
      const config = withRunningLauncher(loadConfigOrExit());
      const target = migrationTarget(config);
      if (target) {
        await migratePostgres(target.url, { appRole: target.appRole });
        console.log(
          `migrations applied to ${config.DATABASE_MIGRATION_URL ? 'DATABASE_MIGRATION_URL' : 'DATABASE_URL'}` +
            (target.appRole ? `; role ${target.appRole} (DATABASE_URL) granted the app's privileges` : ''),
        );
        return;
      }
      const client = await openPglite(config.PGLITE_DIR);
      try {
        await migrateEmbedded(client);
      } finally {
        await client.close();
      }
      console.log(`migrations applied to embedded PGlite at ${config.PGLITE_DIR}`);
    });
}
