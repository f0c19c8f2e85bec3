import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { type Config, loadBalancerWeights } from '../core/config';
import type { Logger } from '../core/logger';
import type { RobotEvents } from '../core/robot-events';
import type { StatusCache } from '../core/status-cache';
import type { DatabaseHandle } from '../db/client';
import { DatabaseGuard } from '../db/database-guard';
import { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleServices } from '../db/module-services';
import { RobotTypesRepository } from '../db/robot-types.repository';
import { RobotsRepository } from '../db/robots.repository';
import { ApprovalsService } from './approvals.service';
import { checkHealth } from './health';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { requestId } from './middleware/request-id';
import { ModulesService } from './modules.service';
import { buildOpenApiDocument } from './openapi';
import { RobotControlService } from './robot-control.service';
import { RobotTypesService } from './robot-types.service';
import { RobotsService } from './robots.service';
import { approvalsRoutes } from './routes/approvals.routes';
import { modulesRoutes } from './routes/modules.routes';
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

export function createApp(deps: AppDeps): Express {
  const { config, logger, database, cache, temporal, services, events } = deps;
  const app = express();
  app.disable('x-powered-by');
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

  const openApi = buildOpenApiDocument('0.1.0');
  app.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });

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
    robotControlRoutes(
      new RobotControlService({
        config,
        temporal,
        robotsService,
        robots: robotsRepository,
        executions: executionsRepository,
        cache,
        guard,
        resolveDefinition: (name, version) => robotTypesService.version(name, version),
        logger,
      }),
      { bodyLimit: config.BODY_LIMIT },
    ),
  );

  app.use('/v1', robotTypesRoutes(robotTypesService, { bodyLimit: config.BODY_LIMIT }));

  app.use(
    '/v1',
    approvalsRoutes(
      new ApprovalsService({ robots: robotsRepository, executions: executionsRepository, guard }),
    ),
  );

  app.use(
    '/v1',
    modulesRoutes(
      new ModulesService(services, {
        weights: loadBalancerWeights(config),
        targetLatencyMs: config.PERFORMANCE_TARGET_LATENCY_MS,
        robotTypes: robotTypesService,
      }),
      { bodyLimit: config.BODY_LIMIT, replicaTtlSeconds: config.MODULE_REPLICA_TTL_SECONDS },
    ),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
