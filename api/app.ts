import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { type Config, loadBalancerWeights } from '../core/config';
import type { Logger } from '../core/logger';
import { metricsRegistry, setRobotCountSource } from '../core/metrics';
import type { RobotEvents } from '../core/robot-events';
import type { StatusCache } from '../core/status-cache';
import type { DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleServices } from '../db/module-services';
import { RobotsRepository } from '../db/robots.repository';
import { dashboardRoutes } from './dashboard.routes';
import { checkHealth, HealthProbe } from './health';
import { httpMetrics } from './middleware/http-metrics';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { requestId } from './middleware/request-id';
import { ModulesService } from './modules.service';
import { buildOpenApiDocument } from './openapi';
import { RobotsService } from './robots.service';
import { modulesRoutes } from './routes/modules.routes';
import { robotsRoutes } from './routes/robots.routes';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  cache: StatusCache;
  temporal: Client;
  services: ModuleServices;
  events: RobotEvents;
}

export interface ApiServices {
  robotsService: RobotsService;
  modulesService: ModulesService;
}

/** The services behind the routes; built apart so the server can also warm caches with them. */
export function createApiServices(deps: AppDeps): ApiServices {
  const { config, logger, database, cache, temporal, services } = deps;
  const modulesService = new ModulesService(
    services,
    { weights: loadBalancerWeights(config), targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS },
    cache.manager,
  );
  const robotsService = new RobotsService({
    config,
    temporal,
    robots: new RobotsRepository(database.db, database.readDb),
    executions: new ExecutionsRepository(database.db, database.readDb),
    cache,
    guard: new DatabaseGuard({
      threshold: config.DB_CIRCUIT_FAILURE_THRESHOLD,
      halfOpenAfterMs: config.DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
    }),
    logger,
  });
  const robotsRepository = new RobotsRepository(database.db, database.readDb);
  setRobotCountSource(() => robotsRepository.countByStatusAndType());
  return { modulesService, robotsService };
}

export function createApp(deps: AppDeps, api: ApiServices = createApiServices(deps)): Express {
  const { config, logger, database, cache, temporal, events } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestId);
  app.use(httpMetrics);
  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => String(res.getHeader('x-request-id')),
      autoLogging: { ignore: (req) => req.url?.startsWith('/health') === true || req.url === '/metrics' },
    }),
  );

  const health = new HealthProbe(
    () => checkHealth({ database, cache, temporal, services: deps.services }),
    config.HEALTH_PROBE_MAX_AGE_MS,
  );
  // Liveness: the process answers. Readiness: it can serve (Postgres and Temporal reachable); a
  // missing cache or module only degrades it. /health: the same report, 503 unless all is well.
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/ready', async (_req, res) => {
    const report = await health.current();
    res.status(report.status === 'unavailable' ? 503 : 200).json(report);
  });
  app.get('/health', async (_req, res) => {
    const report = await health.current();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  const openApi = buildOpenApiDocument('0.1.0');
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  if (config.DASHBOARD_ENABLED) app.use('/dashboard', dashboardRoutes());

  const { modulesService, robotsService } = api;
  app.use(
    '/v1',
    robotsRoutes(robotsService, {
      events,
      bodyLimit: config.BODY_LIMIT,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
    }),
  );

  app.use(
    '/v1',
    modulesRoutes(modulesService, {
      bodyLimit: config.BODY_LIMIT,
      replicaTtlSeconds: config.MODULE_REPLICA_TTL_SECONDS,
    }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
