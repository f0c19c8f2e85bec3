import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { type Config, loadConfigOrExit } from '../../core/config';
import { longestRetentionDays, retentionPolicy } from '../../core/domain/retention';
import { createBuiltInRobotTypes, type RobotTypeDefinition } from '../../core/domain/robot-types';
import { EXIT, guarded, print, UsageError } from '../command-helpers';
import { withRunningLauncher } from '../launcher-state';

// `rpa temporal setup`: what a namespace needs before robots run on it, for a Temporal server the
// launcher does not start (a cluster, Temporal Cloud with a namespace admin's credentials,
// docker-compose). Safe to run again. The Temporal client and the database code are required only
// when it runs.

/** Registered types (the newest version of each) when a database is configured; else none. */
async function registeredTypes(
  config: Config,
): Promise<Pick<RobotTypeDefinition, 'name' | 'retentionDays'>[]> {
  if (!config.DATABASE_URL) return [];
  const { createDatabase } = require('../../db/client') as typeof import('../../db/client');
  const { RobotTypesRepository } =
    require('../../db/robot-types.repository') as typeof import('../../db/robot-types.repository');
  const database = await createDatabase({ ...config, DATABASE_POOL_SIZE: 1 });
  try {
    return (await new RobotTypesRepository(database.db).listLatest()).map((stored) => stored.definition);
  } catch (err) {
    // A first start runs this beside `rpa migrate` (docker-compose orders them; a hand-run walk may not).
    if (undefinedTable(err)) {
      throw new Error(
        "the app database (DATABASE_URL) is not migrated: run `rpa migrate` first (temporal setup reads the robot types' retention from it)",
      );
    }
    throw err;
  } finally {
    await database.close();
  }
}

const GRPC_NOT_FOUND = 5;

/** Postgres' undefined_table (42P01), on the driver's error or the query builder's wrapper of it. */
function undefinedTable(err: unknown): boolean {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '42P01') return true;
  }
  return false;
}

/** How long a namespace that exists may stay unknown to the frontend's namespace cache. */
const NAMESPACE_ARRIVAL_MS = 30_000;

/**
 * Runs `attempt`; while it fails with `missing` and the namespace exists all the same (`exists`), a
 * namespace created moments ago, it tries again for up to NAMESPACE_ARRIVAL_MS.
 */
async function retryWhileNamespaceArrives<T>(
  attempt: () => Promise<T>,
  missing: (err: unknown) => boolean,
  exists: () => Promise<boolean>,
): Promise<T> {
  const deadline = Date.now() + NAMESPACE_ARRIVAL_MS;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!missing(err) || Date.now() > deadline || !(await exists())) throw err;
      await sleep(1000);
    }
  }
}

async function setup(options: { retentionDays?: string }): Promise<number> {
  // In production it must not set up the local dev server's namespace by default (ADR 0059).
  const config = withRunningLauncher(loadConfigOrExit(['temporal']));
  let days: number;
  if (options.retentionDays !== undefined) {
    days = Number(options.retentionDays);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new UsageError('--retention-days must be a whole number of days from 1 to 3650');
  } else {
    const types = [...createBuiltInRobotTypes().all, ...(await registeredTypes(config))];
    days = longestRetentionDays(retentionPolicy(types, config.ROBOT_RETENTION_DAYS));
  }
  const { Connection, isGrpcServiceError } =
    require('@temporalio/client') as typeof import('@temporalio/client');
  const { describeTemporalTarget, temporalConnectionOptions } =
    require('../../core/adapters/temporal/connection.options') as typeof import('../../core/adapters/temporal/connection.options');
  const { ensureNamespaceRetention, ensureSearchAttributes } =
    require('../../core/adapters/temporal/namespace-setup') as typeof import('../../core/adapters/temporal/namespace-setup');
  const connection = await Connection.connect(temporalConnectionOptions(config)).catch((err: unknown) => {
    throw new Error(
      `cannot reach Temporal at ${describeTemporalTarget(config)}: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  try {
    const namespace = config.TEMPORAL_NAMESPACE;
    const notFound = (err: unknown) => isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND;
    const searchAttributes = await retryWhileNamespaceArrives(
      () => ensureSearchAttributes(connection, namespace),
      notFound,
      // Describing reads the namespace from the database; the search-attribute calls go through
      // the frontend's namespace cache, which learns of a new namespace up to ~10 s later.
      () =>
        connection.workflowService.describeNamespace({ namespace }).then(
          () => true,
          (err: unknown) => (notFound(err) ? false : Promise.reject(err)),
        ),
    ).catch((err: unknown) => {
      // A cluster (unlike the dev server) has no namespace until someone creates one.
      if (notFound(err)) {
        throw new Error(
          `namespace ${namespace} does not exist on ${config.TEMPORAL_ADDRESS}: create it first (deploy/temporal-namespace.sh, or temporal operator namespace create --namespace ${namespace} --retention ${days * 24}h), then run this again`,
        );
      }
      throw err;
    });
    const retention = await ensureNamespaceRetention(connection, namespace, days);
    print({
      address: config.TEMPORAL_ADDRESS,
      namespace,
      searchAttributes,
      retentionDays: { wanted: days, ...retention },
    });
    return EXIT.ok;
  } finally {
    await connection.close();
  }
}

export function registerTemporalCommands(program: Command): void {
  const temporal = program.command('temporal').description('prepare the Temporal namespace robots run on');
  temporal
    .command('setup')
    .description(
      "registers the robots' search attributes (RobotType, RobotStatus, ModuleName, RobotPriority) and raises the namespace's retention to the longest robot retention (ROBOT_RETENTION_DAYS and every type's retentionDays), so Web UI links work as long as robot rows exist; never lowers it",
    )
    .option('--retention-days <days>', 'set this retention instead of the longest robot retention')
    .action(async (options: { retentionDays?: string }) => guarded(() => setup(options)));
}
