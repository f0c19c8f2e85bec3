import { hostname } from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBasicStepActivities } from '../activities/basic-steps';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import { moduleTaskQueue } from '../core/task-queues';
import { temporalConnectionOptions } from '../core/temporal-options';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { ANY_ROBOT_TYPE, ModulesRepository } from '../db/modules.repository';
import { installWorkerRuntime } from './runtime';

export const MODULE_VERSION = '0.1.0';

export interface ModuleOptions {
  name: string;
  capacity: number;
  robotTypes: string[];
}

export interface ModuleWorkerDeps {
  config: Config;
  connection: NativeConnection;
  database: DatabaseHandle;
  module: ModuleOptions;
}

/** Registers the module (idempotent upsert) and creates its worker on `module-<name>`. */
export async function createModuleWorker({ config, connection, database, module }: ModuleWorkerDeps) {
  const activities = createBasicStepActivities();
  await new ModulesRepository(database.db).register({
    moduleName: module.name,
    moduleVersion: MODULE_VERSION,
    supportedRobotTypes: module.robotTypes.length > 0 ? module.robotTypes : [ANY_ROBOT_TYPE],
    registrationData: {
      capacity: module.capacity,
      steps: Object.keys(activities),
      taskQueue: moduleTaskQueue(module.name),
      lastReplica: { host: hostname(), pid: process.pid },
    },
  });
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: moduleTaskQueue(module.name),
    activities,
    maxConcurrentActivityTaskExecutions: module.capacity,
  });
}

export async function runModuleWorker(config: Config, logger: Logger, module: ModuleOptions): Promise<void> {
  installWorkerRuntime(logger);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const database = await createDatabase(config);
  try {
    const worker = await createModuleWorker({ config, connection, database, module });
    logger.info(
      { module: module.name, capacity: module.capacity, taskQueue: moduleTaskQueue(module.name) },
      'module worker started',
    );
    await worker.run();
  } finally {
    await database.close();
    await connection.close();
  }
}
