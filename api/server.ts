import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import { createStatusCache } from '../core/adapters/redis/cache.builder';
import { rateLimitKeyPrefix, redisConnector } from '../core/adapters/redis/redis.client';
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
import { TriggersRepository } from '../db/triggers.repository';
import { AlertEvaluator } from './alerting';
import { type ApiServices, createApp, rateLimitPolicy, securityHeaders } from './app';
import { ApprovalsService } from './approvals.service';
import { BulkRobotsService } from './bulk-robots.service';
import { warmCaches } from './cache-warming';
import { checkHealth, HealthProbe } from './health-probe';
import { frontDoor, type HotPath } from './hot-path/front-door';
import { healthHotPath } from './hot-path/health.hot';
import { robotStatusHotPath } from './hot-path/robot-status.hot';
import { capturedHeaders } from './hot-path/security-headers';
import { StatusReadPipeline } from './hot-path/status-read.redis';
import { MailboxesService } from './mailboxes.service';
import { createAccessLog } from './middleware/access-log';
import { ModuleRegistry } from './module-registry';
import { ModulesService } from './modules.service';
import { createBulkMatcher, createRobotControlService, createRobotServices } from './robot-services';
import { SchedulesService } from './schedules.service';
import { createSecurity, type Security } from './security';
import type { ShutdownDrain } from './shutdown-drain';
import { StepKindsService } from './step-kinds.service';
import { createTemporalClient } from './temporal-client';
import { TriggersService } from './triggers.service';

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
    robotControlService: createRobotControlService(robot, { config, temporal, cache, logger }),
    bulkRobotsService: new BulkRobotsService({
      config,
      temporal,
      matcher: createBulkMatcher(config, robots, temporal),
      guard,
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
    triggersService: new TriggersService({
      repository: new TriggersRepository(database.db, config.SECRETS_KEYS),
      robotTypes: robot.robotTypes,
      robots: robot.robots,
      toleranceSeconds: config.HOOK_TOLERANCE_SECONDS,
      maxDepth: config.JSON_MAX_DEPTH,
    }),
    schedulesService: new SchedulesService({ config, temporal, robotTypes: robot.robotTypes }),
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

export function healthProbe({ config, database, cache, temporal, moduleStores }: ApiParts): HealthProbe {
  return new HealthProbe(
    () => checkHealth({ database, cache, temporal, moduleStores }),
    config.HEALTH_PROBE_MAX_AGE_MS,
  );
}

/** The Express app of these parts: what tests and benches mount (startApi serves it behind composeServer's front door). */
export function composeApi(
  parts: ApiParts,
  api: ApiServices = createApiServices(parts),
  health: HealthProbe = healthProbe(parts),
): Express {
  const { config, logger, events, security } = parts;
  return createApp({ config, logger, events, security, health }, api);
}

export interface ComposedServer {
  /** Not listening yet. */
  server: Server;
  /** Its readiness; `health.drain` starts a shutdown (startApi's close). */
  health: HealthProbe;
  /** Closes what the fast paths own (their Redis connection); the parts stay open. */
  closeHotPaths(): void;
}

/**
 * The fast paths (api/hot-path, ADR 0045) of these parts, answering from `health` as the Express app
 * does. With CORS on there are none: Express's CORS answers depend on the request. The robot read
 * needs the rate limiter and the cache in one Redis (REDIS_URL).
 */
export function hotPathsOf(parts: ApiParts, health: HealthProbe): { hotPaths: HotPath[]; close(): void } {
  const { config, logger, cache, security } = parts;
  if (config.CORS_ORIGINS.length > 0) return { hotPaths: [], close: () => undefined };
  const headers = capturedHeaders(securityHeaders());
  const hotPaths = [healthHotPath(health, headers)];
  const connect = redisConnector(config);
  if (!connect || cache.kind !== 'redis') return { hotPaths, close: () => undefined };
  const pipeline = new StatusReadPipeline(connect('hotReads'), rateLimitKeyPrefix(config));
  hotPaths.push(
    robotStatusHotPath({
      verifier: security.verifier,
      pipeline,
      cache,
      policy: rateLimitPolicy(config),
      links: { temporalUiUrl: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE },
      headers,
      accessLog: createAccessLog(logger, config.ACCESS_LOG_SAMPLE_RATE),
    }),
  );
  return { hotPaths, close: () => pipeline.close() };
}

/** The API's node:http server: the fast paths in front of the Express app (not listening yet). */
export function composeServer(parts: ApiParts, api: ApiServices = createApiServices(parts)): ComposedServer {
  const health = healthProbe(parts);
  const { hotPaths, close } = hotPathsOf(parts, health);
  return {
    server: createServer(frontDoor(composeApi(parts, api, health), hotPaths)),
    health,
    closeHotPaths: close,
  };
}

/**
 * The API's side of a graceful shutdown: readiness 503 and event streams told to reconnect at once;
 * after API_SHUTDOWN_DELAY_SECONDS no new connections, idle keep-alive ones closed, and in-flight
 * requests given API_SHUTDOWN_TIMEOUT_SECONDS to finish before their sockets are cut.
 */
async function drainServer(server: Server, drain: ShutdownDrain, config: Config, logger: Logger) {
  const streams = drain.start(STREAM_RETRY_MS);
  logger.info({ streams, delaySeconds: config.API_SHUTDOWN_DELAY_SECONDS }, 'api draining: readiness 503');
  if (config.API_SHUTDOWN_DELAY_SECONDS > 0)
    await new Promise((resolve) => setTimeout(resolve, config.API_SHUTDOWN_DELAY_SECONDS * 1000));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), config.API_SHUTDOWN_TIMEOUT_SECONDS * 1000);
  });
  if ((await Promise.race([closed, deadline])) === 'timeout') {
    logger.warn({ timeoutSeconds: config.API_SHUTDOWN_TIMEOUT_SECONDS }, 'requests still open: closing them');
    server.closeAllConnections();
    await closed;
  }
  clearTimeout(timer);
}

/** What an event stream's client is told to wait before it reconnects when this process stops. */
const STREAM_RETRY_MS = 1000;

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
  const { server, health, closeHotPaths } = composeServer(parts, api);
  server.listen(config.PORT, config.HOST);
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
      await drainServer(server, health.drain, config, logger);
      closeHotPaths();
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
