import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createMailboxActivities, type MailboxActivityDeps } from '../activities/mailbox-monitor';
import { createMaintenanceActivities } from '../activities/maintenance';
import { createNotifyActivities } from '../activities/notify';
import { createProgressActivities } from '../activities/progress';
import { createSelectionActivities } from '../activities/selection';
import { DocumentsService } from '../api/documents.service';
import { RobotTypesService } from '../api/robot-types.service';
import { RobotsService } from '../api/robots.service';
import { createStatusCache } from '../core/cache';
import { type Config, loadBalancerWeights } from '../core/config';
import { LocalDocumentStore } from '../core/document-store';
import type { Logger } from '../core/logger';
import { createRobotEvents, type RobotEvents } from '../core/robot-events';
import { configureBuiltInRobotTypes } from '../core/robot-types';
import type { StatusCache } from '../core/status-cache';
import { temporalConnectionOptions } from '../core/temporal-options';
import { AlertsRepository } from '../db/alerts.repository';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { DocumentsRepository } from '../db/documents.repository';
import { ExecutionsRepository } from '../db/executions.repository';
import { createModuleServices, type ModuleServices } from '../db/module-services';
import { NotificationsRepository } from '../db/notifications.repository';
import { createNotifier } from '../db/notifier';
import { RobotTypesRepository } from '../db/robot-types.repository';
import { RobotsRepository } from '../db/robots.repository';
import { SecretStore } from '../db/secret-store';
import { SecretsRepository } from '../db/secrets.repository';
import { logContextInterceptor } from './log-context-interceptor';
import { ensureMailboxMonitors } from './mailbox-monitors';
import { serveWorkerMetrics } from './metrics-server';
import { installWorkerRuntime } from './runtime';
import { ensureSchedules } from './schedules';
import { workflowSource } from './workflow-source';

export interface ControlWorkerDeps {
  config: Config;
  connection: NativeConnection;
  /** For the maintenance activities (reconciliation) and the schedules. */
  client: Client;
  database: DatabaseHandle;
  cache: StatusCache;
  services: ModuleServices;
  events: RobotEvents;
  logger: Logger;
}

/** Runs robot workflows, the persistence/selection/maintenance activities, and owns the schedules. */
export async function createControlWorker({
  config,
  connection,
  client,
  database,
  cache,
  services,
  events,
  logger,
}: ControlWorkerDeps) {
  // Reconciliation re-reads built-in definitions: the same configured ones the API starts robots with.
  configureBuiltInRobotTypes({ invoiceApprovalBelow: config.INVOICE_APPROVAL_BELOW });
  const robots = new RobotsRepository(database.db, database.readDb);
  const notifications = new NotificationsRepository(database.db);
  const notifier = createNotifier(config, database);
  const activities = {
    ...createProgressActivities({
      robots,
      executions: new ExecutionsRepository(database.db, database.readDb),
      cache,
      services,
      events,
      ewmaAlpha: config.PERFORMANCE_EWMA_ALPHA,
      logger,
      hasSubscribers: (event, robotType) => notifications.hasSubscribers(event, robotType),
    }),
    ...createSelectionActivities({
      services,
      weights: loadBalancerWeights(config),
      targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
    }),
    ...createMaintenanceActivities({ config, database, services, robots, client, logger }),
    ...createNotifyActivities({ notifier, logger }),
    ...createMailboxActivities(
      mailboxActivityDeps({ config, database, client, cache, logger }, robots, notifier),
    ),
  };
  await ensureSchedules(client, config);
  await ensureMailboxMonitors(client, config, logger);
  return Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.CONTROL_TASK_QUEUE,
    ...workflowSource(config.WORKFLOW_BUNDLE_PATH),
    activities,
    interceptors: { activity: [() => ({ inbound: logContextInterceptor })] },
  });
}

/** Email intake makes robots and documents the way the API does: through the same services. */
function mailboxActivityDeps(
  { config, database, client, cache, logger }: Omit<ControlWorkerDeps, 'connection' | 'services' | 'events'>,
  robots: RobotsRepository,
  notifier: ReturnType<typeof createNotifier>,
): MailboxActivityDeps {
  const guard = new DatabaseGuard({
    threshold: config.DB_CIRCUIT_FAILURE_THRESHOLD,
    halfOpenAfterMs: config.DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
  });
  const secrets = new SecretStore(new SecretsRepository(database.db), config.SECRETS_KEYS);
  return {
    mailboxes: config.MAILBOXES,
    revealSecret: (name) => secrets.reveal(name),
    documents: new DocumentsService(
      new DocumentsRepository(database.db, database.readDb),
      new LocalDocumentStore(config.DOCUMENTS_DIR),
      { maxBytes: config.DOCUMENT_MAX_BYTES, maxPixels: config.DOCUMENT_MAX_PIXELS },
    ),
    robotsService: new RobotsService({
      config,
      temporal: client,
      robots,
      executions: new ExecutionsRepository(database.db, database.readDb),
      cache,
      guard,
      logger,
      robotTypes: new RobotTypesService({ repository: new RobotTypesRepository(database.db), guard }),
    }),
    robots,
    alerts: new AlertsRepository(database.db, database.readDb),
    notifier,
    logger,
  };
}

/**
 * Process entry: runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then closes everything.
 * `onReady` is called once the worker is created, just before it starts polling.
 */
export async function runControlWorker(config: Config, logger: Logger, onReady?: () => void): Promise<void> {
  installWorkerRuntime(logger, config.TEMPORAL_METRICS_BIND);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const clientConnection = await Connection.connect(temporalConnectionOptions(config));
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });
  const database = await createDatabase(config);
  const cache = createStatusCache(config);
  const services = createModuleServices(config, database);
  const events = createRobotEvents(config.REDIS_URL);
  const closeMetrics = await serveWorkerMetrics(config, logger);
  try {
    const worker = await createControlWorker({
      config,
      connection,
      client,
      database,
      cache,
      services,
      events,
      logger,
    });
    logger.info(
      { taskQueue: config.CONTROL_TASK_QUEUE, database: database.kind, cache: cache.kind },
      'control worker started',
    );
    onReady?.();
    await worker.run();
  } finally {
    await events.close();
    await services.close();
    await cache.close();
    await database.close();
    await clientConnection.close();
    await connection.close();
    await closeMetrics?.();
  }
}
