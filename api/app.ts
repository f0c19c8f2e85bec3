import type { Client } from '@temporalio/client';
import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { type Config, loadBalancerWeights } from '../core/config';
import type { Logger } from '../core/logger';
import type { RobotEvents } from '../core/robot-events';
import type { StatusCache } from '../core/status-cache';
import type { DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleServices } from '../db/module-services';
import { RobotsRepository } from '../db/robots.repository';
import { countUnfinishedRobots } from '../db/running-robots';
import { checkHealth } from './health';
import { auditTrail } from './middleware/audit-trail';
import { identify, requireKey, requireScope } from './middleware/authenticate';
import { jsonLimits } from './middleware/json-body';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { rateLimit, runningRobotsCap } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { ModulesService } from './modules.service';
import { buildOpenApiDocument } from './openapi';
import { withSecurity } from './openapi-security';
import { RobotsService } from './robots.service';
import { auditRoutes } from './routes/audit.routes';
import { keysRoutes } from './routes/keys.routes';
import { modulesRoutes } from './routes/modules.routes';
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

export function createApp(deps: AppDeps): Express {
  const { config, logger, database, cache, temporal, services, events } = deps;
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
  jsonLimits.maxDepth = config.JSON_MAX_DEPTH;
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(requestId);
  app.use(
    pinoHttp({
      logger,
      genReqId: (_req, res) => String(res.getHeader('x-request-id')),
      autoLogging: { ignore: (req) => req.url === '/health' },
    }),
  );

  app.get('/health', async (_req, res) => {
    const report = await checkHealth({ database, cache, temporal });
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  const openApi = withSecurity(buildOpenApiDocument('0.1.0'));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

  // Every /v1 route needs an API key with the route's scope; /health, /openapi.json, /metrics and
  // /dashboard stay open.
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
    modulesRoutes(
      new ModulesService(services, {
        weights: loadBalancerWeights(config),
        targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
      }),
      { bodyLimit: config.BODY_LIMIT, replicaTtlSeconds: config.MODULE_REPLICA_TTL_SECONDS },
    ),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
