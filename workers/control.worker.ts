import { NativeConnection, Worker } from '@temporalio/worker';
import { createProgressActivities } from '../activities/progress';
import { createSelectionActivities } from '../activities/selection';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import { createStatusCache, type StatusCache } from '../core/status-cache';
import { temporalConnectionOptions } from '../core/temporal-options';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { ExecutionsRepository } from '../db/executions.repository';
import { ModulesRepository } from '../db/modules.repository';
import { RobotsRepository } from '../db/robots.repository';
import { installWorkerRuntime } from './runtime';
import { workflowSource } from './workflow-source';

export interface ControlWorkerDeps {
  config: Config;
  connection: NativeConnection;
  database: DatabaseHandle;
  cache: StatusCache;
  logger: Logger;
}

/** Runs robot workflows and the persistence/selection activities on the control queue. */
export async function createControlWorker({
  config,
  connection,
  database,
  cache,
  logger,
}: ControlWorkerDeps) {
  const activities = {
    ...createProgressActivities({
      robots: new RobotsRepository(database.db, database.readDb),
      executions: new ExecutionsRepository(database.db, database.readDb),
      cache,
      logger,
    }),
    ...createSelectionActivities({ modules: new ModulesRepository(database.db) }),
  };
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.CONTROL_TASK_QUEUE,
    ...workflowSource(config.WORKFLOW_BUNDLE_PATH),
    activities,
  });
}

/** Process entry: runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then closes everything. */
export async function runControlWorker(config: Config, logger: Logger): Promise<void> {
  installWorkerRuntime(logger);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const database = await createDatabase(config);
  const cache = createStatusCache({
    redisUrl: config.REDIS_URL,
    ttlSeconds: config.CACHE_STATUS_TTL_SECONDS,
  });
  try {
    const worker = await createControlWorker({ config, connection, database, cache, logger });
    logger.info(
      { taskQueue: config.CONTROL_TASK_QUEUE, database: database.kind, cache: cache.kind },
      'control worker started',
    );
    await worker.run();
  } finally {
    await cache.close();
    await database.close();
    await connection.close();
  }
}
