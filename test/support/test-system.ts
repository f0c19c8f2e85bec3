import { randomBytes } from 'node:crypto';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Express } from 'express';
import Redis from 'ioredis';
import { Client as PgClient } from 'pg';
import type { Logger } from 'pino';
import request from 'supertest';
import { createSecurity, type Security } from '../../api/security';
import { composeApi, composeServer, createApiServices } from '../../api/server';
import { createStatusCache } from '../../core/adapters/redis/cache.builder';
import { createRobotEvents } from '../../core/adapters/redis/robot-events.redis';
import type { StatusCache } from '../../core/adapters/redis/status-cache';
import { type Config, parseConfig } from '../../core/config';
import type { RobotEvents } from '../../core/domain/robot-events';
import { createLogger } from '../../core/observability/logger';
import { createDatabase, type DatabaseHandle } from '../../db/client';
import { createModuleStores, type ModuleStores } from '../../db/module-stores';
import { createSecretStore } from '../../db/secret-store';
import { createControlWorker } from '../../workers/control.worker';
import { stopMaintenanceWorkflows } from '../../workers/maintenance-workflows';
import {
  createModuleWorker,
  type ModuleOptions,
  type ModuleWorker,
  type ModuleWorkerDeps,
} from '../../workers/module.worker';
import { installWorkerRuntime } from '../../workers/runtime';
import { adminQuery, databaseUrl, TEMPLATE_DATABASE, TEST_REDIS_URL } from './test-env';

export interface TestSystem {
  config: Config;
  url: string;
  /** supertest agent on `url` that sends the system's admin key. */
  api: ReturnType<typeof request.agent>;
  /** The admin key made for this system (scope `admin`). */
  adminKey: string;
  security: Security;
  database: DatabaseHandle;
  /** A direct connection for assertions on rows. */
  sql: PgClient;
  cache: StatusCache;
  /** Closes the fast paths' own Redis connection: cached reads then go through Express. */
  closeHotPaths(): void;
  moduleStores: ModuleStores;
  events: RobotEvents;
  temporal: TemporalClient;
  /** The in-process control worker (its compiled options, e.g. the workflow cache size). */
  controlWorker: Worker;
  moduleName: string;
  /** Starts an in-process module replica; `stop()` shuts it down gracefully. */
  startModule(
    options: Partial<ModuleOptions> & { name: string },
    /** Step implementations by kind, built-in or custom; the built-in ones when absent. */
    activities?: ModuleWorkerDeps['activities'],
  ): Promise<ModuleWorker & { stop(): Promise<void> }>;
  /**
   * A second app on this system's database, Temporal and module stores, with its own config,
   * logger, cache or events (tests of security and degraded modes). Its security is made from the
   * merged config unless given, and is closed with the system.
   */
  appFor(overrides?: AppOverrides): { app: Express; security: Security };
  close(): Promise<void>;
}

export interface AppOverrides {
  config?: Partial<Config>;
  logger?: Logger;
  cache?: StatusCache;
  events?: RobotEvents;
  temporal?: TemporalClient;
  /** false: rate limits in memory only, as in embedded mode. */
  redis?: boolean;
}

/**
 * Everything a test file needs, isolated from other files: its own database (a copy of the
 * migrated template), Redis key prefix, control task queue and module; the Redis server and the
 * Temporal server are shared.
 */
export async function startTestSystem(
  options: {
    module?: Partial<ModuleOptions> | false;
    env?: Record<string, string>;
    /** Reach Postgres through this local port (a proxy the test can cut). */
    databasePort?: number;
  } = {},
): Promise<TestSystem> {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `rpa_test_${suffix}`;
  await adminQuery(`create database ${dbName} template ${TEMPLATE_DATABASE}`);
  const config = parseConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl(dbName, options.databasePort),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    CONTROL_TASK_QUEUE: `rpa-control-test-${suffix}`,
    REDIS_KEY_PREFIX: `rpa-test-${suffix}:`,
    MODULE_WAIT_SECONDS: '1',
    MODULE_HEARTBEAT_SECONDS: '1',
    MODULE_REPLICA_TTL_SECONDS: '3',
    // In-process replicas stop at once, as tests of lost workers expect (test/e2e/graceful-shutdown
    // stops real processes with the default grace).
    WORKER_SHUTDOWN_GRACE_SECONDS: '0',
    HEALTH_PROBE_MAX_AGE_MS: '200',
    SECRETS_KEYS: `test:${randomBytes(32).toString('base64')}`,
    // Robot gauges sampled every second, so a test sees its robots counted soon.
    METRICS_SAMPLE_SECONDS: '1',
    ...options.env,
  });
  const logger = createLogger(config, 'test');
  installWorkerRuntime(logger);
  const database = await createDatabase(config);
  // Assertions read rows directly, even when the system reaches Postgres through a cut proxy.
  const sql = new PgClient({ connectionString: databaseUrl(dbName) });
  await sql.connect();
  const redisUrl = config.REDIS_URL ?? TEST_REDIS_URL;
  const cache = createStatusCache({ ...config, REDIS_URL: redisUrl });
  const moduleStores = createModuleStores(config, database);
  const events = createRobotEvents({ ...config, REDIS_URL: redisUrl });
  const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new TemporalClient({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });

  const secrets = createSecretStore(config, database);
  const running: { worker: Worker; done: Promise<void> }[] = [];
  const controlWorker = await createControlWorker({
    config,
    connection: nativeConnection,
    client: temporal,
    database,
    cache,
    moduleStores,
    events,
    logger,
  });
  running.push({ worker: controlWorker, done: controlWorker.run() });

  const startModule = async (
    module: Partial<ModuleOptions> & { name: string },
    activities?: ModuleWorkerDeps['activities'],
  ) => {
    const moduleWorker = await createModuleWorker({
      config,
      connection: nativeConnection,
      moduleStores,
      logger,
      database,
      module: { capacity: 5, robotTypes: [], ...module },
      ...(activities ? { activities } : {}),
      revealSecret: (name: string) => secrets.reveal(name),
    });
    const done = moduleWorker.run();
    running.push({ worker: moduleWorker.worker, done });
    return {
      ...moduleWorker,
      async stop() {
        moduleWorker.worker.shutdown();
        await done;
      },
    };
  };
  const moduleName = options.module === false ? '' : (options.module?.name ?? `mod-${suffix}`);
  if (options.module !== false) await startModule({ ...options.module, name: moduleName });

  const security = createSecurity(config, database, logger);
  const adminKey = (await security.keys.create({ name: 'test-admin', scopes: ['admin'], expiresAt: null }))
    .key;
  const parts = { config, logger, database, cache, temporal, moduleStores, events, security };
  const services = createApiServices(parts);
  // As startApi does: the robot gauges of /metrics come from the background sampler.
  services.robotMetrics.start(config.METRICS_SAMPLE_SECONDS * 1000);
  // As startApi serves it: the fast paths (api/hot-path) in front of the Express app.
  const { server, closeHotPaths } = composeServer(parts, services);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const extraSecurity: Security[] = [];
  const appFor = (overrides: AppOverrides = {}) => {
    const appConfig = { ...config, ...overrides.config };
    const appLogger = overrides.logger ?? logger;
    const appSecurity = createSecurity(appConfig, database, appLogger, { redis: overrides.redis ?? true });
    extraSecurity.push(appSecurity);
    const extraApp = composeApi({
      config: appConfig,
      logger: appLogger,
      database,
      cache: overrides.cache ?? cache,
      temporal: overrides.temporal ?? temporal,
      moduleStores,
      events: overrides.events ?? events,
      security: appSecurity,
    });
    return { app: extraApp, security: appSecurity };
  };

  return {
    config,
    url,
    api: request.agent(url).set('Authorization', `Bearer ${adminKey}`),
    adminKey,
    security,
    database,
    sql,
    cache,
    closeHotPaths,
    moduleStores,
    events,
    temporal,
    controlWorker,
    moduleName,
    startModule,
    appFor,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      closeHotPaths();
      await services.robotMetrics.stop();
      await security.close();
      await Promise.all(extraSecurity.map((extra) => extra.close().catch(() => undefined)));
      for (const { worker } of running) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
      }
      await Promise.all(running.map(({ done }) => done.catch(() => undefined)));
      // Its control queue is gone with it: the maintenance workflows would wait on it forever.
      await stopMaintenanceWorkflows(temporal, config).catch(() => undefined);
      await clientConnection.close();
      await nativeConnection.close();
      await moduleStores.close();
      await events.close();
      const redis = new Redis(TEST_REDIS_URL, { keyPrefix: config.REDIS_KEY_PREFIX });
      await redis.del(
        'module-replicas',
        'module-inflight',
        'module-circuits',
        'module-performance',
        'routing',
      );
      redis.disconnect();
      await cache.close();
      await sql.end();
      await database.close();
      await adminQuery(`drop database if exists ${dbName} with (force)`);
    },
  };
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}
