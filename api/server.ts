import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import { createStatusCache } from '../core/adapters/redis/cache.builder';
import { createRobotEvents } from '../core/adapters/redis/robot-events.redis';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import { type Config, loadBalancerWeights } from '../core/config';
import { defaultAlertRules } from '../core/domain/alerts';
import type { RobotEvents } from '../core/domain/robot-events';
import type { Logger } from '../core/observability/logger';
import { MetricWindows } from '../core/observability/metric-windows';
import { RobotCountSampler } from '../core/observability/metrics';
import { AlertsRepository } from '../db/alerts.repository';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { createModuleStores, type ModuleStores } from '../db/module-stores';
import { NotificationsRepository } from '../db/notifications.repository';
import { createNotifier } from '../db/notifier.builder';
import { ReportsRepository } from '../db/reports.repository';
import { SentEmailsRepository } from '../db/sent-emails.repository';
import { AlertEvaluator } from './alerting';
import { type ApiServices, createApp } from './app';
import { ApprovalsService } from './approvals.service';
import { warmCaches } from './cache-warming';
import { checkHealth, HealthProbe } from './health-probe';
import { MailboxesService } from './mailboxes.service';
import { ModuleRegistry } from './module-registry';
import { ModulesService } from './modules.service';
import { RobotControlService } from './robot-control.service';
import { createRobotServices } from './robot-services';
import { createSecurity, type Security } from './security';
import { StepKindsService } from './step-kinds.service';
import { createTemporalClient } from './temporal-client';

// The API process's composition root: everything the API serves is made here, once.

/** The process's connections and shared state that the API is made of. */
export interface ApiParts {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  cache: StatusCache;
  temporal: Client;
  moduleStores: ModuleStores;
  events: RobotEvents;
  security: Security;
}

/** The services behind the routes; built apart so the server can also warm caches with them. */
export function createApiServices(parts: Omit<ApiParts, 'events' | 'security'>): ApiServices {
  const { config, logger, database, cache, temporal, moduleStores } = parts;
  const robot = createRobotServices({ config, database, temporal, cache, logger });
  const { robotsRepository: robots, executionsRepository: executions, guard } = robot;
  return {
    robotsService: robot.robots,
    robotTypesService: robot.robotTypes,
    documentsService: robot.documents,
    robotControlService: new RobotControlService({
      config,
      temporal,
      robotsService: robot.robots,
      robots,
      executions,
      cache,
      guard,
      resolveDefinition: (name, version) => robot.robotTypes.version(name, version),
      logger,
    }),
    approvalsService: new ApprovalsService({ robots, executions, guard }),
    modulesService: new ModulesService(
      moduleStores,
      {
        weights: loadBalancerWeights(config),
        targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
        robotTypes: robot.robotTypes,
      },
      cache.manager,
      new ModuleRegistry(moduleStores, () => cache.manager.invalidate('moduleHealth')),
    ),
    stepKindsService: new StepKindsService(moduleStores, {
      targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
    }),
    mailboxesService: new MailboxesService({ config, temporal }),
    reports: new ReportsRepository(database.readDb),
    alerts: new AlertsRepository(database.db, database.readDb),
    sentEmails: new SentEmailsRepository(database.db, database.readDb),
    notifications: new NotificationsRepository(database.db),
    ssrfGuard: new SsrfGuard(config.NOTIFY_ALLOWED_HOSTS),
    robotMetrics: new RobotCountSampler({
      robots: () => robots.countByStatusAndType(),
      slaAtRisk: () => robots.countSlaAtRisk(),
    }),
  };
}

/** The Express app of these parts: what startApi serves, and what tests and benches mount. */
export function composeApi(parts: ApiParts, api: ApiServices = createApiServices(parts)): Express {
  const { config, logger, database, cache, temporal, moduleStores, events, security } = parts;
  const health = new HealthProbe(
    () => checkHealth({ database, cache, temporal, moduleStores }),
    config.HEALTH_PROBE_MAX_AGE_MS,
  );
  return createApp({ config, logger, events, security, health }, api);
}

export interface RunningApi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Starts the API with its own connections; close() drains requests, then closes them. */
export async function startApi(config: Config, logger: Logger): Promise<RunningApi> {
  const database = await createDatabase(config);
  const cache = createStatusCache(config);
  const temporal = await createTemporalClient(config);
  const moduleStores = createModuleStores(config, database);
  const events = createRobotEvents(config);
  const security = createSecurity(config, database, logger);
  const parts = { config, logger, database, cache, temporal, moduleStores, events, security };
  const api = createApiServices(parts);
  const server = composeApi(parts, api).listen(config.PORT, config.HOST);
  await once(server, 'listening');
  // In the background: requests are served (from Postgres on a miss) while the caches fill.
  const warming = warmCaches({
    robots: api.robotsService,
    modules: api.modulesService,
    routingTable: moduleStores.routingTable,
    activeRobotLimit: config.CACHE_WARM_ROBOTS,
    logger,
  });
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  const alerting = new AlertEvaluator({
    rules: defaultAlertRules(config),
    alerts: api.alerts,
    windows: new MetricWindows(config.ALERT_MIN_SAMPLES),
    fireAfter: config.ALERT_FIRE_AFTER,
    resolveAfter: config.ALERT_RESOLVE_AFTER,
    logger,
    notifier: createNotifier(config, database),
  });
  alerting.start(config.ALERT_EVALUATION_SECONDS * 1000);
  api.robotMetrics.start(config.METRICS_SAMPLE_SECONDS * 1000);
  if (config.NODE_ENV === 'production' && config.METRICS_TOKEN === undefined)
    logger.warn('METRICS_TOKEN is not set: /metrics is open to anyone who can reach the API port');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return {
    server,
    url: `http://${config.HOST}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await warming;
      await alerting.stop();
      await api.robotMetrics.stop();
      await security.close();
      await temporal.connection.close();
      await moduleStores.close();
      await events.close();
      await cache.close();
      await database.close();
    },
  };
}
