import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Config } from '../core/config';
import type { Logger } from '../core/logger';
import { createRobotEvents } from '../core/robot-events';
import { createStatusCache } from '../core/status-cache';
import { createDatabase } from '../db/client';
import { createModuleServices } from '../db/module-services';
import { createApp } from './app';
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
  const cache = createStatusCache({
    redisUrl: config.REDIS_URL,
    ttlSeconds: config.CACHE_STATUS_TTL_SECONDS,
  });
  const temporal = await createTemporalClient(config);
  const services = createModuleServices(config, database);
  const events = createRobotEvents(config.REDIS_URL);
  const security = createSecurity(config, database, logger);
  const app = createApp({ config, logger, database, cache, temporal, services, events, security });
  const server = app.listen(config.PORT, config.HOST);
  await once(server, 'listening');
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_TIMEOUT_MS;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return {
    server,
    url: `http://${config.HOST}:${port}`,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await security.close();
      await temporal.connection.close();
      await services.close();
      await events.close();
      await cache.close();
      await database.close();
    },
  };
}
