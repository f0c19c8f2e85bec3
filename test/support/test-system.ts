import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { createApp } from '../../api/app';
import { type Config, parseConfig } from '../../core/config';
import { createLogger } from '../../core/logger';
import { RedisStatusCache, type StatusCache } from '../../core/status-cache';
import { createDatabase, type DatabaseHandle } from '../../db/client';
import { createControlWorker } from '../../workers/control.worker';
import { createModuleWorker, type ModuleOptions } from '../../workers/module.worker';
import { installWorkerRuntime } from '../../workers/runtime';
import { adminQuery, databaseUrl, TEMPLATE_DATABASE, TEST_REDIS_URL } from './test-env';

export interface TestSystem {
  config: Config;
  url: string;
  database: DatabaseHandle;
  /** A direct connection for assertions on rows. */
  sql: PgClient;
  cache: StatusCache;
  temporal: TemporalClient;
  moduleName: string;
  startModule(options: Partial<ModuleOptions> & { name: string }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything a test file needs, isolated from other files: its own database (a copy of the
 * migrated template), its own control task queue and module, the shared Redis and Temporal.
 */
export async function startTestSystem(
  options: { module?: Partial<ModuleOptions> | false; env?: Record<string, string> } = {},
): Promise<TestSystem> {
  const suffix = randomBytes(4).toString('hex');
  const dbName = `rpa_test_${suffix}`;
  await adminQuery(`create database ${dbName} template ${TEMPLATE_DATABASE}`);
  const config = parseConfig({
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: databaseUrl(dbName),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    CONTROL_TASK_QUEUE: `rpa-control-test-${suffix}`,
    MODULE_WAIT_SECONDS: '1',
    ...options.env,
  });
  const logger = createLogger(config, 'test');
  installWorkerRuntime(logger);
  const database = await createDatabase(config);
  const sql = new PgClient({ connectionString: config.DATABASE_URL });
  await sql.connect();
  const cache = new RedisStatusCache(TEST_REDIS_URL, config.CACHE_STATUS_TTL_SECONDS);
  const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new TemporalClient({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE });

  const running: { worker: Worker; done: Promise<void> }[] = [];
  const run = (worker: Worker) => {
    running.push({ worker, done: worker.run() });
  };
  run(await createControlWorker({ config, connection: nativeConnection, database, cache, logger }));

  const startModule = async (module: Partial<ModuleOptions> & { name: string }) => {
    run(
      await createModuleWorker({
        config,
        connection: nativeConnection,
        database,
        module: { capacity: 5, robotTypes: [], ...module },
      }),
    );
  };
  const moduleName = options.module === false ? '' : (options.module?.name ?? `mod-${suffix}`);
  if (options.module !== false) await startModule({ ...options.module, name: moduleName });

  const app = createApp({ config, logger, database, cache, temporal });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  return {
    config,
    url,
    database,
    sql,
    cache,
    temporal,
    moduleName,
    startModule,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { worker } of running) worker.shutdown();
      await Promise.all(running.map(({ done }) => done));
      await clientConnection.close();
      await nativeConnection.close();
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
