import type { Client } from '@temporalio/client';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { type Config, loadBalancerWeights } from '../core/config';
import { LocalDocumentStore } from '../core/document-store';
import type { Logger } from '../core/logger';
import { metricsRegistry, setRobotCountSource, setSlaAtRiskSource } from '../core/metrics';
import type { RobotEvents } from '../core/robot-events';
import { configureBuiltInRobotTypes } from '../core/robot-types';
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
import { countUnfinishedRobots } from '../db/running-robots';
import { SentEmailsRepository } from '../db/sent-emails.repository';
import { ApprovalsService } from './approvals.service';
import { dashboardRoutes } from './dashboard.routes';
import { DocumentsService } from './documents.service';
import { checkHealth, HealthProbe } from './health';
import { MailboxesService } from './mailboxes.service';
import { auditTrail } from './middleware/audit-trail';
import { identify, requireKey, requireScope } from './middleware/authenticate';
import { httpMetrics } from './middleware/http-metrics';
import { jsonLimits } from './middleware/json-body';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { rateLimit, runningRobotsCap } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { ModulesService } from './modules.service';
import { buildOpenApiDocument, withSecurity } from './openapi';
import { RobotControlService } from './robot-control.service';
import { RobotTypesService } from './robot-types.service';
import { RobotsService } from './robots.service';
import { alertsRoutes } from './routes/alerts.routes';
import { approvalsRoutes } from './routes/approvals.routes';
import { auditRoutes } from './routes/audit.routes';
import { documentsRoutes } from './routes/documents.routes';
import { emailsRoutes } from './routes/emails.routes';
import { keysRoutes } from './routes/keys.routes';
import { mailboxesRoutes } from './routes/mailboxes.routes';
import { modulesRoutes } from './routes/modules.routes';
import { notificationsRoutes } from './routes/notifications.routes';
import { reportsRoutes } from './routes/reports.routes';
import { robotControlRoutes } from './routes/robot-control.routes';
import { robotTypesRoutes } from './routes/robot-types.routes';
import { robotsRoutes } from './routes/robots.routes';
import { secretsRoutes } from './routes/secrets.routes';
import { createSecurity, type Security } from './security';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  cache: StatusCache;
  temporal: Client;
  services: ModuleServices;
  events: RobotEvents;
  /** Keys, rate limits, audit; made here (in-memory rate limits) when the caller gives none. */
  security?: Security;
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
  setSlaAtRiskSource(() => robotsRepository.countSlaAtRisk());
  return { robotsService, modulesService, robotTypesService, robotControlService, approvalsService };
}

export function createApp(deps: AppDeps, api: ApiServices = createApiServices(deps)): Express {
  const { config, logger, database, cache, temporal, events } = deps;
  // Robots snapshot their type at creation: the built-in ones are configured before any is created.
  configureBuiltInRobotTypes({ invoiceApprovalBelow: config.INVOICE_APPROVAL_BELOW });
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  // Off unless origins are configured: browsers then may call from those origins only.
  if (config.CORS_ORIGINS.length > 0) {
    app.use(
      cors({
        origin: config.CORS_ORIGINS,
        allowedHeaders: ['authorization', 'x-api-key', 'content-type', 'idempotency-key', 'x-request-id'],
        exposedHeaders: [
          'location',
          'retry-after',
          'ratelimit-limit',
          'ratelimit-remaining',
          'ratelimit-reset',
          'x-request-id',
          'x-robot-source',
        ],
        maxAge: 600,
      }),
    );
  }
  const health = new HealthProbe(
    () => checkHealth({ database, cache, temporal, services: deps.services }),
    config.HEALTH_PROBE_MAX_AGE_MS,
  );
  // Probes come right after the security headers and CORS, before request ids, metrics and logging:
  // orchestrators call them every few seconds on every replica, and the answer is a cached report
  // (O(1), no I/O), so the logging stack would be most of their cost.
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

  jsonLimits.maxDepth = config.JSON_MAX_DEPTH;
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestId);
  app.use(httpMetrics);
  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => String(res.getHeader('x-request-id')),
      autoLogging: { ignore: (req) => req.url === '/metrics' },
    }),
  );

  app.get('/metrics', async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  });

  const openApi = withSecurity(buildOpenApiDocument('0.1.0'));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  if (config.DASHBOARD_ENABLED) app.use('/dashboard', dashboardRoutes());

  // Every /v1 route needs an API key with the route's scope (api/auth/route-scopes.ts); /health*,
  // /openapi.json, /metrics and /dashboard stay open.
  const security = deps.security ?? createSecurity(config, database, logger, { redis: false });
  app.use('/v1', auditTrail(security.audit, logger, security.stats));
  app.use(
    '/v1',
    identify(security.verifier),
    rateLimit(security.limiter, {
      windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
      perKey: config.RATE_LIMIT_PER_KEY,
      perIp: config.RATE_LIMIT_PER_IP,
      overrides: config.RATE_LIMIT_OVERRIDES,
    }),
    requireKey,
    requireScope,
  );
  app.post(
    '/v1/robots',
    runningRobotsCap((keyId) => countUnfinishedRobots(database.db, keyId), config.MAX_RUNNING_ROBOTS_PER_KEY),
  );
  app.use('/v1', keysRoutes(security.keys, security.verifier, { bodyLimit: config.BODY_LIMIT }));
  app.use('/v1', auditRoutes(security.audit));
  app.use('/v1', secretsRoutes(security.secrets, { bodyLimit: config.BODY_LIMIT }));

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
  app.use('/v1', mailboxesRoutes(new MailboxesService({ config, temporal })));
  app.use('/v1', emailsRoutes(new SentEmailsRepository(database.db, database.readDb)));
  app.use(
    '/v1',
    notificationsRoutes(
      new NotificationsRepository(database.db),
      new SsrfGuard(config.NOTIFY_ALLOWED_HOSTS),
      {
        bodyLimit: config.BODY_LIMIT,
        emailEnabled: config.SMTP_URL !== undefined,
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
