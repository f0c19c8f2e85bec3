import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { type Config, loadBalancerWeights } from '../core/config';
import { LocalDocumentStore } from '../core/document-store';
import type { Logger } from '../core/logger';
import { metricsRegistry, setRobotCountSource } from '../core/metrics';
import type { RobotEvents } from '../core/robot-events';
import { SsrfGuard } from '../core/ssrf-guard';
import type { StatusCache } from '../core/status-cache';
import { AlertsRepository } from '../db/alerts.repository';
import type { DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { DocumentsRepository } from '../db/documents.repository';
import { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleServices } from '../db/module-services';
import { NotificationsRepository } from '../db/notifications.repository';
import { ReportsRepository } from '../db/reports.repository';
import { RobotTypesRepository } from '../db/robot-types.repository';
import { RobotsRepository } from '../db/robots.repository';
import { ApprovalsService } from './approvals.service';
import { dashboardRoutes } from './dashboard.routes';
import { DocumentsService } from './documents.service';
import { checkHealth, HealthProbe } from './health';
import { httpMetrics } from './middleware/http-metrics';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { requestId } from './middleware/request-id';
import { ModulesService } from './modules.service';
import { buildOpenApiDocument } from './openapi';
import { RobotControlService } from './robot-control.service';
import { RobotTypesService } from './robot-types.service';
import { RobotsService } from './robots.service';
import { alertsRoutes } from './routes/alerts.routes';
import { approvalsRoutes } from './routes/approvals.routes';
import { documentsRoutes } from './routes/documents.routes';
import { modulesRoutes } from './routes/modules.routes';
import { notificationsRoutes } from './routes/notifications.routes';
import { reportsRoutes } from './routes/reports.routes';
import { robotControlRoutes } from './routes/robot-control.routes';
import { robotTypesRoutes } from './routes/robot-types.routes';
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
  robotTypesService: RobotTypesService;
  robotControlService: RobotControlService;
  approvalsService: ApprovalsService;
}

/** The services behind the routes; built apart so the server can also warm caches with them. */
export function createApiServices(deps: AppDeps): ApiServices {
  const { config, logger, database, cache, temporal, services } = deps;
  const robotsRepository = new RobotsRepository(database.db, database.readDb);
  const executionsRepository = new ExecutionsRepository(database.db, database.readDb);
  const guard = new DatabaseGuard({
    threshold: config.DB_CIRCUIT_FAILURE_THRESHOLD,
    halfOpenAfterMs: config.DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS * 1000,
  });
  const robotTypesService = new RobotTypesService({
    repository: new RobotTypesRepository(database.db),
    guard,
  });
  const robotsService = new RobotsService({
    config,
    temporal,
    robots: robotsRepository,
    executions: executionsRepository,
    cache,
    guard,
    logger,
    robotTypes: robotTypesService,
  });
  const robotControlService = new RobotControlService({
    config,
    temporal,
    robotsService,
    robots: robotsRepository,
    executions: executionsRepository,
    cache,
    guard,
    resolveDefinition: (name, version) => robotTypesService.version(name, version),
    logger,
  });
  const approvalsService = new ApprovalsService({
    robots: robotsRepository,
    executions: executionsRepository,
    guard,
  });
  const modulesService = new ModulesService(
    services,
    {
      weights: loadBalancerWeights(config),
      targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
      robotTypes: robotTypesService,
    },
    cache.manager,
  );
  setRobotCountSource(() => robotsRepository.countByStatusAndType());
  return { robotsService, modulesService, robotTypesService, robotControlService, approvalsService };
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

  app.use(
    '/v1',
    robotsRoutes(api.robotsService, {
      events,
      bodyLimit: config.BODY_LIMIT,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
    }),
  );
  app.use('/v1', robotControlRoutes(api.robotControlService, { bodyLimit: config.BODY_LIMIT }));
  app.use('/v1', robotTypesRoutes(api.robotTypesService, { bodyLimit: config.BODY_LIMIT }));
  app.use('/v1', approvalsRoutes(api.approvalsService));
  app.use(
    '/v1',
    modulesRoutes(api.modulesService, {
      bodyLimit: config.BODY_LIMIT,
      replicaTtlSeconds: config.MODULE_REPLICA_TTL_SECONDS,
    }),
  );
  app.use('/v1', reportsRoutes(new ReportsRepository(database.readDb)));
  app.use('/v1', alertsRoutes(new AlertsRepository(database.db, database.readDb)));
  app.use(
    '/v1',
    notificationsRoutes(
      new NotificationsRepository(database.db),
      new SsrfGuard(config.NOTIFY_ALLOWED_HOSTS),
      {
        bodyLimit: config.BODY_LIMIT,
      },
    ),
  );

  const documents = new DocumentsService(
    new DocumentsRepository(database.db, database.readDb),
    new LocalDocumentStore(config.DOCUMENTS_DIR),
    { maxBytes: config.DOCUMENT_MAX_BYTES, maxPixels: config.DOCUMENT_MAX_PIXELS },
  );
  app.use('/v1', documentsRoutes(documents, { maxBytes: config.DOCUMENT_MAX_BYTES }));

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
