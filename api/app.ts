import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import type { Config } from '../core/config';
import type { RobotEvents } from '../core/domain/robot-events';
import type { Logger } from '../core/observability/logger';
import { metricsRegistry, metricsText, type RobotCountSampler } from '../core/observability/metrics';
import type { AlertsRepository } from '../db/alerts.repository';
import type { NotificationsRepository } from '../db/notifications.repository';
import type { ReportsRepository } from '../db/reports.repository';
import type { SentEmailsRepository } from '../db/sent-emails.repository';
import type { ApprovalsService } from './approvals.service';
import type { BulkRobotsService } from './bulk-robots.service';
import type { DocumentsService } from './documents.service';
import type { HealthProbe } from './health-probe';
import type { MailboxesService } from './mailboxes.service';
import { accessLogMiddleware, createAccessLog } from './middleware/access-log';
import { auditTrail } from './middleware/audit-trail';
import { identify, requireKey, requireScope } from './middleware/authenticate';
import { httpMetrics } from './middleware/http-metrics';
import type { JsonLimits } from './middleware/json-body';
import { metricsAccess } from './middleware/metrics-access';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { type RateLimitPolicy, rateLimit } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import type { ModulesService } from './modules.service';
import { buildOpenApiDocument, withSecurity } from './openapi';
import type { RobotControlService } from './robot-control.service';
import type { RobotTypesService } from './robot-types.service';
import type { RobotsService } from './robots.service';
import { alertsRoutes } from './routes/alerts.routes';
import { approvalsRoutes } from './routes/approvals.routes';
import { auditRoutes } from './routes/audit.routes';
import { bulkRobotsRoutes } from './routes/bulk-robots.routes';
import { dashboardRoutes } from './routes/dashboard.routes';
import { documentsRoutes } from './routes/documents.routes';
import { emailsRoutes } from './routes/emails.routes';
import { healthRoutes } from './routes/health.routes';
import { hooksRoutes } from './routes/hooks.routes';
import { keysRoutes } from './routes/keys.routes';
import { mailboxesRoutes } from './routes/mailboxes.routes';
import { modulesRoutes } from './routes/modules.routes';
import { notificationsRoutes } from './routes/notifications.routes';
import { reportsRoutes } from './routes/reports.routes';
import { robotControlRoutes } from './routes/robot-control.routes';
import { robotTypesRoutes } from './routes/robot-types.routes';
import { robotsRoutes } from './routes/robots.routes';
import { schedulesRoutes } from './routes/schedules.routes';
import { secretsRoutes } from './routes/secrets.routes';
import { stepKindsRoutes } from './routes/step-kinds.routes';
import { triggersRoutes } from './routes/triggers.routes';
import type { SchedulesService } from './schedules.service';
import type { Security } from './security';
import type { StepKindsService } from './step-kinds.service';
import type { TriggersService } from './triggers.service';

// The Express app: middleware and routes over services made elsewhere (api/server.ts composes them).

/** What the routes serve; built by createApiServices (api/server.ts). */
export interface ApiServices {
  robotsService: RobotsService;
  modulesService: ModulesService;
  stepKindsService: StepKindsService;
  robotTypesService: RobotTypesService;
  robotControlService: RobotControlService;
  bulkRobotsService: BulkRobotsService;
  approvalsService: ApprovalsService;
  documentsService: DocumentsService;
  mailboxesService: MailboxesService;
  /** Inbound webhook triggers: /v1/triggers and /hooks/<name>. */
  triggersService: TriggersService;
  schedulesService: SchedulesService;
  reports: ReportsRepository;
  alerts: AlertsRepository;
  sentEmails: SentEmailsRepository;
  notifications: NotificationsRepository;
  /** Checks webhook targets of notification subscriptions. */
  ssrfGuard: SsrfGuard;
  /** The robot gauges /metrics adds to the process registry; startApi runs the sampler. */
  robotMetrics: RobotCountSampler;
}

export interface AppDeps {
  config: Config;
  logger: Logger;
  events: RobotEvents;
  /** Keys, rate limits, audit, secrets. */
  security: Security;
  health: HealthProbe;
}

/** The security headers on every answer (the fast paths, api/hot-path, send the same ones). */
export const securityHeaders = () => helmet();

export function rateLimitPolicy(config: Config): RateLimitPolicy {
  return {
    windowMs: config.RATE_LIMIT_WINDOW_SECONDS * 1000,
    perKey: config.RATE_LIMIT_PER_KEY,
    perIp: config.RATE_LIMIT_PER_IP,
    overrides: config.RATE_LIMIT_OVERRIDES,
  };
}

export function createApp(deps: AppDeps, api: ApiServices): Express {
  const { config } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders());
  // Off unless origins are configured: browsers then may call from those origins only.
  if (config.CORS_ORIGINS.length > 0) app.use(corsFor(config.CORS_ORIGINS));
  app.use(healthRoutes(deps.health));
  // req.ip, which rate limits and the audit log use, comes from X-Forwarded-For only through these hops.
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestId);
  app.use(httpMetrics);
  app.use(accessLogMiddleware(createAccessLog(deps.logger, config.ACCESS_LOG_SAMPLE_RATE)));
  app.get('/metrics', metricsAccess(config.METRICS_TOKEN, deps.security.verifier), async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsText(api.robotMetrics.registry));
  });
  const openApi = withSecurity(buildOpenApiDocument('0.1.0'));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  if (config.DASHBOARD_ENABLED) app.use('/dashboard', dashboardRoutes());
  app.use(
    '/hooks',
    hooksRoutes({
      service: api.triggersService,
      audit: deps.security.audit,
      limiter: deps.security.limiter,
      policy: rateLimitPolicy(config),
      bodyLimit: config.HOOK_BODY_LIMIT,
      logger: deps.logger,
      stats: deps.security.stats,
    }),
  );
  v1Routes(app, deps, api);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

function corsFor(origins: string[]) {
  return cors({
    origin: origins,
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
  });
}

/** Every /v1 route needs an API key with the route's scope (api/auth/route-scopes.ts). */
function v1Routes(
  app: Express,
  { config, logger, events, security, health }: AppDeps,
  api: ApiServices,
): void {
  const json: JsonLimits = { limit: config.BODY_LIMIT, maxDepth: config.JSON_MAX_DEPTH };
  app.use('/v1', auditTrail(security.audit, logger, security.stats));
  app.use(
    '/v1',
    identify(security.verifier),
    rateLimit(security.limiter, rateLimitPolicy(config)),
    requireKey,
    requireScope,
  );
  app.use('/v1', keysRoutes(security.keys, security.verifier, security.revocations, { json, logger }));
  app.use('/v1', auditRoutes(security.audit));
  app.use('/v1', secretsRoutes(security.secrets, { json }));
  app.use('/v1', bulkRobotsRoutes(api.bulkRobotsService, { json }));
  app.use(
    '/v1',
    robotsRoutes(api.robotsService, {
      events,
      json,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
      maxRunningPerKey: config.MAX_RUNNING_ROBOTS_PER_KEY,
      drain: health.drain,
    }),
  );
  app.use('/v1', robotControlRoutes(api.robotControlService, { json }));
  app.use('/v1', robotTypesRoutes(api.robotTypesService, { json }));
  app.use('/v1', approvalsRoutes(api.approvalsService));
  app.use(
    '/v1',
    modulesRoutes(api.modulesService, {
      json,
      heartbeatSeconds: config.MODULE_HEARTBEAT_SECONDS,
      replicaTtlSeconds: config.MODULE_REPLICA_TTL_SECONDS,
    }),
  );
  app.use('/v1', stepKindsRoutes(api.stepKindsService));
  app.use('/v1', reportsRoutes(api.reports));
  app.use('/v1', alertsRoutes(api.alerts));
  app.use('/v1', mailboxesRoutes(api.mailboxesService));
  app.use('/v1', schedulesRoutes(api.schedulesService, { json }));
  app.use('/v1', emailsRoutes(api.sentEmails));
  app.use(
    '/v1',
    notificationsRoutes(api.notifications, api.ssrfGuard, {
      json,
      emailEnabled: config.SMTP_URL !== undefined,
    }),
  );
  app.use('/v1', documentsRoutes(api.documentsService, { maxBytes: config.DOCUMENT_MAX_BYTES }));
  app.use('/v1', triggersRoutes(api.triggersService, { json }));
}
