import { once } from 'node:events';
import type { Server } from 'node:http';
import { defaultAlertRules } from '../core/alerts';
import { createStatusCache } from '../core/cache';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import { MetricWindows } from '../core/metric-windows';
import { createRobotEvents } from '../core/robot-events';
import { AlertsRepository } from '../db/alerts.repository';
import { createDatabase } from '../db/client';
import { createModuleServices } from '../db/module-services';
import { createNotifier } from '../db/notifier';
import { AlertEvaluator } from './alerting';
import { createApiServices, createApp } from './app';
import { warmCaches } from './cache-warming';
import { createSecurity } from './security';
import { createTemporalClient } from './temporal-client';

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
  const services = createModuleServices(config, database);
  const events = createRobotEvents(config);
  const security = createSecurity(config, database, logger);
  const deps = { config, logger, database, cache, temporal, services, events, security };
  const api = createApiServices(deps);
  const app = createApp(deps, api);
  const server = app.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  // In the background: requests are served (from Postgres on a miss) while the caches fill.
  const warming = warmCaches({
    robots: api.robotsService,
    modules: api.modulesService,
    routingTable: services.routingTable,
    activeRobotLimit: config.CACHE_WARM_ROBOTS,
    logger,
  });
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  const alerting = new AlertEvaluator({
    rules: defaultAlertRules(config),
    alerts: new AlertsRepository(database.db, database.readDb),
    windows: new MetricWindows(config.ALERT_MIN_SAMPLES),
    fireAfter: config.ALERT_FIRE_AFTER,
    resolveAfter: config.ALERT_RESOLVE_AFTER,
    logger,
    notifier: createNotifier(config, database),
  });
  alerting.start(config.ALERT_EVALUATION_SECONDS * 1000);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return {
    server,
    url: `http://${config.HOST}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await warming;
      await alerting.stop();
      await security.close();
      await temporal.connection.close();
      await services.close();
      await events.close();
      await cache.close();
      await database.close();
    },
  };
}
