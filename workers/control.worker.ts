import { Client, Connection, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { type BulkActivityDeps, createBulkActivities } from '../activities/bulk-robots';
import { createMailboxAlertActivities } from '../activities/mailbox-alerts';
import { createMailboxActivities, type MailboxActivityDeps } from '../activities/mailbox-monitor';
import { createMaintenanceActivities } from '../activities/maintenance';
import { createNotifyActivities } from '../activities/notify';
import { createProgressActivities } from '../activities/progress';
import { createRetentionActivities } from '../activities/retention';
import { createScheduledRobotActivities, type ScheduledRobotDeps } from '../activities/scheduled-robot';
import { createSelectionActivities } from '../activities/selection';
import { createStepAdvanceActivities } from '../activities/step-advance';
import {
  createBulkMatcher,
  createRobotControlService,
  createRobotServices,
  type RobotServices,
} from '../api/robot-services';
import { createRobotBody } from '../api/schemas';
import { createDocumentStore } from '../core/adapters/document-store.factory';
import { createStatusCache } from '../core/adapters/redis/cache.builder';
import { createRobotEvents } from '../core/adapters/redis/robot-events.redis';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import { connectToTemporal, temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import { type Config, loadBalancerWeights } from '../core/config';
import { auditActor } from '../core/domain/audit-actor';
import { ValidationError } from '../core/domain/errors';
import type { RobotEvents } from '../core/domain/robot-events';
import type { Logger } from '../core/observability/logger';
import { AlertsRepository } from '../db/alerts.repository';
import { AuditRepository } from '../db/audit.repository';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { createModuleStores, type ModuleStores } from '../db/module-stores';
import { NotificationsRepository } from '../db/notifications.repository';
import { createNotifier } from '../db/notifier.builder';
import { RetentionRepository } from '../db/retention.repository';
import { createSecretStore } from '../db/secret-store';
import { logContextInterceptor } from './log-context.interceptor';
import { ensureMailboxMonitors } from './mailbox-monitors';
import { ensureMaintenanceWorkflows } from './maintenance-workflows';
import { serveWorkerMetrics } from './metrics-server';
import { installWorkerRuntime } from './runtime';
import { workflowSource } from './workflow-source';

// The control worker process's composition root: its activities and their dependencies are made here.

export interface ControlWorkerDeps {
  config: Config;
  connection: NativeConnection;
  /** For the maintenance activities (reconciliation) and the maintenance workflows. */
  client: Client;
  database: DatabaseHandle;
  cache: StatusCache;
  moduleStores: ModuleStores;
  events: RobotEvents;
  logger: Logger;
}

/** Runs robot workflows, the persistence/selection/maintenance activities, and owns the maintenance workflows. */
export async function createControlWorker(deps: ControlWorkerDeps) {
  const { config, connection, client, logger } = deps;
  const activities = controlActivities(deps);
  await ensureMaintenanceWorkflows(client, config, logger);
  await ensureMailboxMonitors(client, config, logger);
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.CONTROL_TASK_QUEUE,
    ...workflowSource(config.WORKFLOW_BUNDLE_PATH),
    maxCachedWorkflows: config.WORKFLOW_CACHE_SIZE,
    // SIGTERM: polling stops; the running local activities (progress writes) get the grace to finish.
    shutdownGraceTime: config.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
    activities,
    interceptors: { activity: [() => ({ inbound: logContextInterceptor })] },
  });
}

function controlActivities({
  config,
  client,
  database,
  cache,
  moduleStores,
  events,
  logger,
}: ControlWorkerDeps) {
  // Robots are made (email intake) and restarted (reconciliation) as the API makes them.
  const robot = createRobotServices({ config, database, temporal: client, cache, logger });
  const notifier = createNotifier(config, database);
  const notifications = new NotificationsRepository(database.db);
  const progress = createProgressActivities({
    robots: robot.robotsRepository,
    executions: robot.executionsRepository,
    cache,
    moduleStores,
    events,
    ewmaAlpha: config.PERFORMANCE_EWMA_ALPHA,
    logger,
    hasSubscribers: (event, robotType) => notifications.hasSubscribers(event, robotType),
    writeBehind: config.PROGRESS_WRITE_BEHIND,
  });
  const selection = createSelectionActivities({
    moduleStores,
    weights: loadBalancerWeights(config),
    targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
  });
  const bulk = createBulkActivities(bulkActions(config, client, robot, cache, database, logger));
  return {
    ...progress,
    ...selection,
    ...createStepAdvanceActivities({ ...progress, ...selection }),
    ...createMaintenanceActivities({
      config,
      moduleStores,
      robots: robot.robotsRepository,
      executions: robot.executionsRepository,
      // Any version of a built-in type is today's; a registered one is looked up by its version.
      robotDefinition: async (name, version) =>
        robot.builtIns.find(name) ?? (await robot.robotTypesRepository.find(name, version))?.definition,
      client,
      logger,
    }),
    ...createRetentionActivities({
      config,
      retention: new RetentionRepository(database.db),
      documentStore: createDocumentStore(config),
      robotTypes: async () => [
        ...robot.builtIns.all,
        ...(await robot.robotTypesRepository.listLatest()).map((stored) => stored.definition),
      ],
      logger,
    }),
    ...createNotifyActivities({ notifier, logger }),
    ...createMailboxActivities(mailboxIntake(config, database, robot, logger)),
    ...createMailboxAlertActivities({
      alerts: new AlertsRepository(database.db, database.readDb),
      notifier,
      logger,
    }),
    ...bulk,
    ...createScheduledRobotActivities(scheduledRobots(client, robot, logger)),
  };
}

/** Bulk actions act through the controls the API's single-robot routes use (ADR 0049). */
function bulkActions(
  config: Config,
  client: Client,
  robot: RobotServices,
  cache: StatusCache,
  database: DatabaseHandle,
  logger: Logger,
): BulkActivityDeps {
  const control = createRobotControlService(robot, { config, temporal: client, cache, logger });
  const matcher = createBulkMatcher(config, robot.robotsRepository, client);
  return {
    page: (args) => matcher.page(args),
    controls: {
      cancel: (robotId) => control.cancel(robotId),
      retry: (robotId) => control.retry(robotId),
      resume: (robotId, updateKey) => control.update(robotId, 'resume', undefined, updateKey),
      reprioritize: (robotId, priority, updateKey) => control.reprioritize(robotId, priority, updateKey),
    },
    audit: new AuditRepository(database.db),
    concurrency: config.BULK_CONCURRENCY,
    logger,
  };
}

/** Robot schedules' ports: robots made as POST /v1/robots makes them, the schedule paused through Temporal. */
function scheduledRobots(client: Client, robot: RobotServices, logger: Logger): ScheduledRobotDeps {
  return {
    robotIntake: {
      async create({ actor, robotId, idempotencyKey, body }) {
        const parsed = createRobotBody.safeParse(body);
        if (!parsed.success) throw new ValidationError(parsed.error.issues[0]?.message ?? 'invalid robot');
        return {
          created: (await robot.robots.create(parsed.data, idempotencyKey, null, robotId, actor)).created,
        };
      },
    },
    async pauseSchedule(scheduleId, note) {
      // Deleted meanwhile: nothing left to pause.
      await client.schedule
        .getHandle(scheduleId)
        .pause(note)
        .catch((err: unknown) => {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        });
    },
    async robotFinished(robotId) {
      try {
        const run = await client.workflow.getHandle(robotId).describe();
        return run.status.name !== 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return true;
        throw err;
      }
    },
    logger,
  };
}

/** Email intake's ports, adapted to the services the API uses: documents and robots are checked alike. */
function mailboxIntake(
  config: Config,
  database: DatabaseHandle,
  robot: RobotServices,
  logger: Logger,
): MailboxActivityDeps {
  const secrets = createSecretStore(config, database);
  return {
    mailboxes: config.MAILBOXES,
    revealSecret: (name) => secrets.reveal(name),
    documents: {
      upload: async (file) => ({ documentId: (await robot.documents.upload(file)).document.documentId }),
    },
    robotIntake: {
      async create({ mailbox, robotId, type, input, idempotencyKey }) {
        // The API's own body schema: the same defaults and control-character stripping as POST /v1/robots.
        const body = createRobotBody.parse({ type, input });
        const actor = auditActor.mailbox(mailbox);
        return { created: (await robot.robots.create(body, idempotencyKey, null, robotId, actor)).created };
      },
    },
    robots: robot.robotsRepository,
    logger,
  };
}

/**
 * Process entry: runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then closes everything.
 * `onReady` is called once the worker is created, just before it starts polling.
 */
export async function runControlWorker(config: Config, logger: Logger, onReady?: () => void): Promise<void> {
  installWorkerRuntime(logger, config.TEMPORAL_METRICS_BIND);
  const connection = await connectToTemporal(config, () =>
    NativeConnection.connect(temporalConnectionOptions(config)),
  );
  const clientConnection = await connectToTemporal(config, () =>
    Connection.connect(temporalConnectionOptions(config)),
  );
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const database = await createDatabase(config);
  const cache = createStatusCache(config);
  const moduleStores = createModuleStores(config, database);
  const events = createRobotEvents(config);
  const closeMetrics = await serveWorkerMetrics(config, logger);
  try {
    const worker = await createControlWorker({
      config,
      connection,
      client,
      database,
      cache,
      moduleStores,
      events,
      logger,
    });
    logger.info(
      {
        taskQueue: config.CONTROL_TASK_QUEUE,
        database: database.kind,
        cache: cache.kind,
        maxCachedWorkflows: worker.options.maxCachedWorkflows,
      },
      'control worker started',
    );
    onReady?.();
    await worker.run();
  } finally {
    await events.close();
    await moduleStores.close();
    await cache.close();
    await database.close();
    await clientConnection.close();
    await connection.close();
    await closeMetrics?.();
  }
}
