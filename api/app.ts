import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import type { StatusCache } from '../core/status-cache';
import type { DatabaseHandle } from '../db/client';
import { ExecutionsRepository } from '../db/executions.repository';
import { RobotsRepository } from '../db/robots.repository';
import { checkHealth } from './health';
import { errorHandler, notFoundHandler } from './middleware/problem';
import { requestId } from './middleware/request-id';
import { buildOpenApiDocument } from './openapi';
import { RobotsService } from './robots.service';
import { robotsRoutes } from './routes/robots.routes';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: DatabaseHandle;
  cache: StatusCache;
  temporal: Client;
}

export function createApp(deps: AppDeps): Express {
  const { config, logger, database, cache, temporal } = deps;
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

  const service = new RobotsService({
    config,
    temporal,
    robots: new RobotsRepository(database.db, database.readDb),
    executions: new ExecutionsRepository(database.db, database.readDb),
    cache,
    logger,
  });
  app.use(
    '/v1',
    robotsRoutes(service, {
      bodyLimit: config.BODY_LIMIT,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      namespace: config.TEMPORAL_NAMESPACE,
    }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
