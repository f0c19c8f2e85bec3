import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Context } from '@temporalio/activity';
import { type ActivityInboundCallsInterceptor, NativeConnection, Worker } from '@temporalio/worker';
import { createModuleStepActivities } from '../activities/module-steps';
import type { StepActivities } from '../activities/types';
import type { Config } from '../core/config';
import { ANY_TYPE } from '../core/load-balancer';
import type { Logger } from '../core/logger';
import { moduleStepDuration, moduleSteps } from '../core/metrics';
import type { ReplicaInfo } from '../core/module-state';
import { moduleTaskQueue } from '../core/task-queues';
import { temporalConnectionOptions } from '../core/temporal-options';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { createModuleServices, type ModuleServices } from '../db/module-services';
import { SecretStore } from '../db/secret-store';
import { SecretsRepository } from '../db/secrets.repository';
import { logContextInterceptor } from './log-context-interceptor';
import { serveWorkerMetrics } from './metrics-server';
import { installWorkerRuntime } from './runtime';
import { noSecrets, type RevealSecret, withSecretParams } from './secret-params';

export const MODULE_VERSION = '0.1.0';

export interface ModuleOptions {
  name: string;
  capacity: number;
  robotTypes: string[];
}

export interface ModuleWorkerDeps {
  config: Config;
  connection: NativeConnection;
  services: ModuleServices;
  logger: Logger;
  module: ModuleOptions;
  /** Where the document steps read document rows (ocr). */
  database: DatabaseHandle;
  /** The step implementations; the built-in ones unless a module brings its own. */
  activities?: Partial<StepActivities>;
  /** Looks up `{"$secret": name}` step params; without it such a step fails with a clear reason. */
  revealSecret?: RevealSecret;
}

export interface ModuleWorker {
  worker: Worker;
  replica: ReplicaInfo;
  /** Runs the worker with heartbeats until it shuts down, then removes the replica. */
  run(): Promise<void>;
}

/**
 * Registers the module (idempotent upsert), then creates its worker on `module-<name>` with an
 * interceptor that counts in-flight steps for the load balancer.
 */
export async function createModuleWorker({
  config,
  connection,
  services,
  logger,
  module,
  database,
  activities: custom,
  revealSecret = noSecrets,
}: ModuleWorkerDeps): Promise<ModuleWorker> {
  const builtIn = custom ? null : createModuleStepActivities(config, database);
  const activities = custom ?? builtIn?.activities ?? {};
  const replica: ReplicaInfo = {
    moduleName: module.name,
    replicaId: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    capacity: module.capacity,
    host: hostname(),
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  await services.modules.register({
    moduleName: module.name,
    moduleVersion: MODULE_VERSION,
    supportedRobotTypes: module.robotTypes.length > 0 ? module.robotTypes : [ANY_TYPE],
    supportedSteps: Object.keys(activities),
    capacity: module.capacity,
    registrationData: { taskQueue: moduleTaskQueue(module.name), lastReplica: replica },
  });
  const heartbeat = () => services.state.heartbeat(replica, config.MODULE_REPLICA_TTL_SECONDS, Date.now());
  await heartbeat();
  await services.routingTable.invalidate();

  const countInFlight: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      // Counting must never fail a step: the health monitor corrects drift.
      await services.state.addInFlight(replica.moduleName, replica.replicaId, 1).catch(() => undefined);
      const labels = { module: replica.moduleName, step: Context.current().info.activityType };
      const stop = moduleStepDuration.startTimer(labels);
      try {
        const result = await next(input);
        moduleSteps.inc({ ...labels, outcome: 'ok' });
        return result;
      } catch (err) {
        moduleSteps.inc({ ...labels, outcome: 'failed' });
        throw err;
      } finally {
        stop();
        await services.state.addInFlight(replica.moduleName, replica.replicaId, -1).catch(() => undefined);
      }
    },
  };
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: moduleTaskQueue(module.name),
    activities: withSecretParams(activities, revealSecret),
    maxConcurrentActivityTaskExecutions: module.capacity,
    interceptors: {
      activity: [() => ({ inbound: logContextInterceptor }), () => ({ inbound: countInFlight })],
    },
  });

  return {
    worker,
    replica,
    async run() {
      const timer = setInterval(() => {
        heartbeat().catch((err: unknown) => logger.warn({ err }, 'module heartbeat failed'));
      }, config.MODULE_HEARTBEAT_SECONDS * 1000);
      try {
        await worker.run();
      } finally {
        clearInterval(timer);
        await builtIn
          ?.close()
          .catch((err: unknown) => logger.warn({ err }, 'stopping the OCR workers failed'));
        await services.state.removeReplica(replica.moduleName, replica.replicaId).catch(() => undefined);
      }
    },
  };
}

/** Process entry; `onReady` is called once the module is registered and its worker created. */
export async function runModuleWorker(
  config: Config,
  logger: Logger,
  module: ModuleOptions,
  onReady?: () => void,
): Promise<void> {
  installWorkerRuntime(logger, config.TEMPORAL_METRICS_BIND);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const database: DatabaseHandle = await createDatabase(config);
  const services = createModuleServices(config, database);
  const closeMetrics = await serveWorkerMetrics(config, logger);
  try {
    const secrets = new SecretStore(new SecretsRepository(database.db), config.SECRETS_KEYS);
    const moduleWorker = await createModuleWorker({
      config,
      connection,
      services,
      logger,
      module,
      database,
      ...(secrets.configured ? { revealSecret: (name: string) => secrets.reveal(name) } : {}),
    });
    logger.info(
      {
        module: module.name,
        replica: moduleWorker.replica.replicaId,
        capacity: module.capacity,
        taskQueue: moduleTaskQueue(module.name),
      },
      'module worker started',
    );
    onReady?.();
    await moduleWorker.run();
  } finally {
    await services.close();
    await database.close();
    await connection.close();
    await closeMetrics?.();
  }
}
