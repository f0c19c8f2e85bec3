import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { createSecurity } from '../../../api/security';
import { type DevServer, startTemporalDevServer } from '../../../cli/temporal-dev-server';
import { parseConfig } from '../../../core/config';
import { createLogger } from '../../../core/observability/logger';
import { createDatabase } from '../../../db/client';
import { TestRedisServer } from '../../support/redis-server';
import { type SmtpSink, startSmtpSink } from '../../support/smtp-sink';
import { adminQuery, databaseUrl, ROOT, TEMPLATE_DATABASE } from '../../support/test-env';
import { eventually } from '../../support/test-system';
import { freePort } from './free-port';
import { type KeyedReceiver, startKeyedReceiver } from './keyed-receiver';
import { RpaProcess } from './rpa-process';

// A whole system of real processes on loopback, owned by one chaos scenario: its own Temporal dev
// server (SQLite file kept across restarts), Redis server, database (a copy of the migrated
// template), API, control worker and module workers, plus the sinks every side effect is counted
// at: an SMTP sink, a webhook receiver and the call log of a custom step kind.

export interface ModuleSpec {
  name: string;
  replicas: number;
  capacity?: number;
  /** Serves send-email: only modules given the SMTP relay offer it (so kills can spare it). */
  mailer?: boolean;
}

export interface ChaosClusterOptions {
  label: string;
  modules: ModuleSpec[];
  /** Processes of `rpa api`, each on its own port. */
  apis?: number;
  /** The database URL the system's processes use, given the real one (a proxy in front, say). */
  databaseUrlFor?: (direct: string) => string | Promise<string>;
  /**
   * A migrated database the scenario owns (on a server of its own, say), used instead of a copy of
   * the template; the cluster leaves it in place on close.
   */
  databaseUrl?: string;
  env?: Record<string, string>;
  /** The migrated database the system's is copied from (default: the tests' template). */
  templateDatabase?: string;
}

export interface ChaosCluster {
  label: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  temporal: TemporalClient;
  temporalServer: DevServer;
  /** Stops the Temporal dev server; `startTemporal()` brings it back on the same port and SQLite file. */
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  redis: TestRedisServer;
  /** Direct connection to the system's database, for assertions (never through a proxy). */
  sql: PgClient;
  /** A new direct connection for `sql`, after the scenario restarted the database server. */
  reconnectSql(): Promise<void>;
  databaseName: string;
  smtp: SmtpSink;
  hooks: KeyedReceiver;
  calls: KeyedReceiver;
  apis: RpaProcess[];
  apiUrls: string[];
  control: RpaProcess;
  modules: Map<string, RpaProcess[]>;
  callModule: RpaProcess;
  adminKey: string;
  /**
   * A module replica process with the cluster's settings (not started); `env` overrides some, e.g.
   * the addresses a replica on another network namespace reaches the services at.
   */
  moduleProcess(spec: ModuleSpec, index: number, prefix?: string[], env?: Record<string, string>): RpaProcess;
  /** Waits until `name` has `replicas` live replicas registered. */
  awaitReplicas(name: string, replicas: number, timeoutMs?: number): Promise<void>;
  api(pathname: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/** Settings that make faults show quickly: heartbeats of a second, replicas gone after three. */
const FAST_FAILURE_ENV = {
  MODULE_HEARTBEAT_SECONDS: '1',
  MODULE_REPLICA_TTL_SECONDS: '3',
  MODULE_WAIT_SECONDS: '1',
  MODULE_PICKUP_TIMEOUT_SECONDS: '5',
  STEP_HEARTBEAT_TIMEOUT_SECONDS: '3',
  HEALTH_MONITOR_INTERVAL_SECONDS: '5',
};

export async function startChaosCluster(options: ChaosClusterOptions): Promise<ChaosCluster> {
  const suffix = randomBytes(4).toString('hex');
  const dir = mkdtempSync(path.join(tmpdir(), `rpa-chaos-${options.label}-`));
  const logDir = path.join(dir, 'logs');
  const ownDatabase = options.databaseUrl;
  const databaseName = ownDatabase ? new URL(ownDatabase).pathname.slice(1) : `rpa_chaos_${suffix}`;
  if (!ownDatabase) {
    await adminQuery(
      `create database ${databaseName} template ${options.templateDatabase ?? TEMPLATE_DATABASE}`,
    );
  }
  const directUrl = ownDatabase ?? databaseUrl(databaseName);
  const systemDatabaseUrl = options.databaseUrlFor ? await options.databaseUrlFor(directUrl) : directUrl;

  const temporalPort = await freePort();
  const temporalOptions = {
    root: ROOT,
    port: temporalPort,
    dbFile: path.join(dir, 'temporal.sqlite'),
    logFile: path.join(logDir, 'temporal.log'),
    namespace: 'default',
  };
  let temporalServer = await startTemporalDevServer(temporalOptions);
  const redis = new TestRedisServer(await freePort());
  await redis.start();
  const smtp = await startSmtpSink();
  const hooks = await startKeyedReceiver();
  const calls = await startKeyedReceiver();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    DATA_DIR: path.join(dir, 'data'),
    DOCUMENTS_DIR: path.join(dir, 'documents'),
    DATABASE_URL: systemDatabaseUrl,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `rpa-chaos-${suffix}:`,
    TEMPORAL_ADDRESS: temporalServer.address,
    CONTROL_TASK_QUEUE: `rpa-control-chaos-${suffix}`,
    HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
    NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
    RATE_LIMIT_PER_KEY: '1000000',
    RATE_LIMIT_PER_IP: '1000000',
    MAX_RUNNING_ROBOTS_PER_KEY: '1000000',
    SECRETS_KEYS: `chaos:${randomBytes(32).toString('base64')}`,
    METRICS_SAMPLE_SECONDS: '5',
    ...FAST_FAILURE_ENV,
    ...options.env,
  };
  for (const name of ['SMTP_URL', 'WORKER_METRICS_PORT', 'PORT', 'MODULE_NAME']) delete env[name];

  // The admin key, made on the database the way `rpa keys create` does.
  const config = parseConfig({ ...env, DATABASE_URL: directUrl, LOG_LEVEL: 'silent' });
  const logger = createLogger(config, 'chaos');
  const database = await createDatabase(config);
  const security = createSecurity(config, database, logger, { redis: false });
  const adminKey = (await security.keys.create({ name: 'chaos-admin', scopes: ['admin'], expiresAt: null }))
    .key;
  await security.close();
  await database.close();

  const connectSql = async () => {
    const client = new PgClient({ connectionString: directUrl });
    // A server restarted under it ends the connection: that is for reconnectSql, not a crash.
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  let sql = await connectSql();
  const connection = await Connection.connect({ address: temporalServer.address });
  const temporal = new TemporalClient({ connection, namespace: 'default' });

  const apiCount = options.apis ?? 1;
  const apiPorts = await Promise.all(Array.from({ length: apiCount }, () => freePort()));
  const apis = apiPorts.map(
    (port, i) =>
      new RpaProcess(`api-${i + 1}`, ['api'], { ...env, PORT: String(port), HOST: '127.0.0.1' }, logDir),
  );
  const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
  const control = new RpaProcess('control', ['worker', '--control'], env, logDir);

  const moduleProcess = (
    spec: ModuleSpec,
    index: number,
    prefix: string[] = [],
    overrides: Record<string, string> = {},
  ) =>
    new RpaProcess(
      `module-${spec.name}-${index + 1}`,
      ['worker', '--module', spec.name, '--capacity', String(spec.capacity ?? 5)],
      { ...env, ...(spec.mailer ? { SMTP_URL: smtp.url } : {}), ...overrides },
      logDir,
      prefix,
    );
  const modules = new Map<string, RpaProcess[]>(
    options.modules.map((spec) => [
      spec.name,
      Array.from({ length: spec.replicas }, (_, i) => moduleProcess(spec, i)),
    ]),
  );
  const callModule = new RpaProcess(
    'module-chaos-calls',
    ['modules', 'start', path.join(__dirname, 'call-log.module.ts')],
    { ...env, RPA_API_URL: apiUrls[0], RPA_API_KEY: adminKey, CALL_LOG_URL: calls.url },
    logDir,
  );

  const api = (pathname: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('authorization', `Bearer ${adminKey}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${apiUrls[0]}${pathname}`, {
      ...rest,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      signal: rest.signal ?? AbortSignal.timeout(10_000),
    });
  };

  const awaitReplicas = async (name: string, replicas: number, timeoutMs = 60_000) => {
    await eventually(async () => {
      const res = await api(`/v1/modules/${name}`);
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { live?: { replicas?: number } };
      return (body.live?.replicas ?? 0) >= replicas ? true : undefined;
    }, timeoutMs);
  };

  const processes = () => [...apis, control, callModule, ...[...modules.values()].flat()];
  const cluster: ChaosCluster = {
    label: options.label,
    dir,
    env,
    temporal,
    get temporalServer() {
      return temporalServer;
    },
    async stopTemporal() {
      await temporalServer.stop();
    },
    async startTemporal() {
      temporalServer = await startTemporalDevServer(temporalOptions);
    },
    redis,
    get sql() {
      return sql;
    },
    async reconnectSql() {
      await sql.end().catch(() => undefined);
      sql = await connectSql();
    },
    databaseName,
    smtp,
    hooks,
    calls,
    apis,
    apiUrls,
    control,
    modules,
    callModule,
    adminKey,
    moduleProcess,
    awaitReplicas,
    api,
    async close() {
      await Promise.all(processes().map((child) => child.close().catch(() => undefined)));
      await connection.close().catch(() => undefined);
      await temporalServer.stop().catch(() => undefined);
      await redis.kill();
      await smtp.close();
      await hooks.close();
      await calls.close();
      await sql.end().catch(() => undefined);
      if (!ownDatabase) await adminQuery(`drop database if exists ${databaseName} with (force)`);
      if (!process.env.CHAOS_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const child of apis) child.start();
    await Promise.all(apis.map((child) => child.printed('api listening')));
    control.start();
    await control.printed('control worker started');
    for (const replicas of modules.values()) for (const child of replicas) child.start();
    for (const spec of options.modules) await awaitReplicas(spec.name, spec.replicas);
    callModule.start();
    await awaitReplicas('chaos-calls', 1);
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
