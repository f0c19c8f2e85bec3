import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection, Client as TemporalClient } from '@temporalio/client';
import { msNumberToTs } from '@temporalio/common/lib/time';
import Redis from 'ioredis';
import { Client as PgClient } from 'pg';
import { locateTemporalCli } from '../../cli/temporal-dev-server';
import { maintenanceWorkflowId } from '../../core/domain/maintenance-workflow.contract';
import { DEFAULT_CONTROL_TASK_QUEUE } from '../../core/domain/task-queues';
import { freePort } from '../chaos/support/free-port';
import { RpaProcess } from '../chaos/support/rpa-process';
import { type CliResult, rpa, runProcess } from '../support/rpa-cli';
import { requireServerTools, TEMPORAL_SERVER, TemporalServer, TOOLS_BIN } from '../support/temporal-server';
import { ADMIN_DATABASE_URL, adminQuery, databaseUrl, ROOT, TEST_REDIS_URL } from '../support/test-env';
import { eventually } from '../support/test-system';

// docs/deploy.md, "A Temporal cluster without containers", walked with real processes (issue 19,
// ADR 0060): a real Temporal server (`temporal-server` v1.29.1, not the CLI's dev server) with
// Postgres for its default and its SQL (postgres12) visibility store, set up by the scripts the
// Compose stack runs (deploy/temporal-schema.sh, deploy/temporal-namespace.sh), then `rpa temporal
// setup`, `rpa migrate`, `rpa keys create`, the API, a control worker and two module workers of one
// module, all with NODE_ENV=production and the settings the docs give. Robots go in through the API;
// their steps are spread over both module workers; a bulk dry run with a visibility query (custom
// search attributes on SQL visibility) finds exactly the robots it should, and the maintenance
// reconciler's visibility list works there too.

const suffix = randomBytes(4).toString('hex');
const TEMPORAL_DB = `rpa_tc_temporal_${suffix}`;
const VISIBILITY_DB = `rpa_tc_visibility_${suffix}`;
const APP_DB = `rpa_tc_app_${suffix}`;
const NAMESPACE = `rpa-${suffix}`;
const NOOP_ROBOTS = 8;
const DEMO_ROBOTS = 2;
const admin = new URL(ADMIN_DATABASE_URL);
const dir = mkdtempSync(path.join(tmpdir(), 'rpa-temporal-cluster-'));
const processes: RpaProcess[] = [];
let server: TemporalServer | undefined;
let temporalCli = '';
let temporal: TemporalClient | undefined;
let connection: Connection | undefined;

/** A script of deploy/ or the rpa CLI, with the tools on PATH the way a user's shell has them. */
function withTools(env: Record<string, string>): Record<string, string> {
  return { ...env, PATH: [TOOLS_BIN, path.dirname(temporalCli), process.env.PATH].join(path.delimiter) };
}

function schemaScript(env: Record<string, string> = {}): Promise<CliResult> {
  return runProcess('sh', [path.join(ROOT, 'deploy', 'temporal-schema.sh')], {
    env: withTools({
      POSTGRES_SEEDS: admin.hostname,
      DB_PORT: admin.port || '5432',
      POSTGRES_USER: decodeURIComponent(admin.username) || 'postgres',
      // Empty under trust auth, as here: the script takes that.
      POSTGRES_PWD: decodeURIComponent(admin.password),
      DBNAME: TEMPORAL_DB,
      VISIBILITY_DBNAME: VISIBILITY_DB,
      ...env,
    }),
  });
}

/** Every variable a production process gets here: those docs/deploy.md's self-hosted section names. */
const appEnv = (): Record<string, string> =>
  withTools({
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    TEMPORAL_ADDRESS: server?.address ?? '',
    TEMPORAL_NAMESPACE: NAMESPACE,
    DATABASE_URL: databaseUrl(APP_DB),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: `rpa-tc-${suffix}:`,
    SECRETS_KEYS: `tc:${randomBytes(32).toString('base64')}`,
    DATA_DIR: path.join(dir, 'data'),
    DOCUMENTS_DIR: path.join(dir, 'documents'),
  });
let env: Record<string, string> = {};

function rpaCommand(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  return runProcess(process.execPath, [rpa, ...args], { env: { ...env, ...extra } });
}

async function schemaState(database: string): Promise<{ version: string; updates: number; tables: number }> {
  const client = new PgClient({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    const version = await client.query<{ curr_version: string }>('select curr_version from schema_version');
    const updates = await client.query<{ n: string }>('select count(*) as n from schema_update_history');
    const tables = await client.query<{ n: string }>(
      "select count(*) as n from information_schema.tables where table_schema = 'public'",
    );
    return {
      version: version.rows[0]?.curr_version ?? '',
      updates: Number(updates.rows[0]?.n),
      tables: Number(tables.rows[0]?.n),
    };
  } finally {
    await client.end();
  }
}

/** The release's schema directory in the Go module cache (what the admin-tools image ships under /etc/temporal/schema). */
function moduleCacheSchemaRoot(): string {
  const cache = execFileSync('go', ['env', 'GOMODCACHE'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env.PATH}${path.delimiter}/usr/local/go/bin` },
  }).trim();
  const root = path.join(cache, 'go.temporal.io', 'server@v1.29.1', 'schema', 'postgresql', 'v12');
  if (!existsSync(root))
    throw new Error(
      `${root} is missing: run bash scripts/install-temporal-server.sh (it downloads the module)`,
    );
  return root;
}

function json<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`exit ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

beforeAll(async () => {
  requireServerTools();
  temporalCli = await locateTemporalCli(ROOT);
}, 120_000);

afterAll(async () => {
  await Promise.all(processes.map((child) => child.stop().catch(() => undefined)));
  await Promise.all(processes.map((child) => child.close().catch(() => undefined)));
  await connection?.close().catch(() => undefined);
  await server?.stop();
  for (const database of [TEMPORAL_DB, VISIBILITY_DB, APP_DB])
    await adminQuery(`drop database if exists ${database} with (force)`).catch(() => undefined);
  // The machine's Redis is shared: only this walk's keys go.
  const redis = new Redis(TEST_REDIS_URL);
  const keys = await redis.keys(`rpa-tc-${suffix}:*`).catch(() => []);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  if (!process.env.KEEP_TEMPORAL_CLUSTER) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('a Temporal cluster without containers (docs/deploy.md)', () => {
  it('deploy/temporal-schema.sh creates both schemas, and a second run (the upgrade path) changes nothing', async () => {
    // As a user without containers runs it: the schemas built into temporal-sql-tool.
    const first = await schemaScript();
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`temporal-schema: ${TEMPORAL_DB} is up to date`);
    expect(first.stdout).toContain(`temporal-schema: ${VISIBILITY_DB} is up to date`);
    const store = await schemaState(TEMPORAL_DB);
    const visibility = await schemaState(VISIBILITY_DB);
    // The versions the release declares (schema/postgresql/v12/version.go): every one was applied.
    const declared = readFileSync(path.join(moduleCacheSchemaRoot(), 'version.go'), 'utf8');
    expect(store.version).toBe(/\bVersion = "([\d.]+)"/.exec(declared)?.[1]);
    expect(visibility.version).toBe(/\bVisibilityVersion = "([\d.]+)"/.exec(declared)?.[1]);
    expect(store.tables).toBeGreaterThan(20);

    // As the admin-tools image runs it in Compose: the release's schema files from a directory.
    const again = await schemaScript({ SCHEMA_ROOT: moduleCacheSchemaRoot() });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`temporal-schema: ${TEMPORAL_DB} is up to date`);
    expect(again.stdout).toContain(`temporal-schema: ${VISIBILITY_DB} is up to date`);
    // update-schema found nothing to apply (it logs each version it runs).
    expect(again.stderr).not.toContain('Executing updates for version');
    expect(first.stderr).toContain('Executing updates for version');
    expect(await schemaState(TEMPORAL_DB)).toEqual(store);
    expect(await schemaState(VISIBILITY_DB)).toEqual(visibility);
  }, 120_000);

  it('SCHEMA_ROOT that is not a directory is refused by name', async () => {
    const result = await schemaScript({ SCHEMA_ROOT: path.join(dir, 'no-such-schema') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`SCHEMA_ROOT ${path.join(dir, 'no-such-schema')} is not a directory`);
  });

  it('temporal-server knows every key of deploy/dynamicconfig.yaml (a misspelt key is only a warning)', async () => {
    const file = path.join(ROOT, 'deploy', 'dynamicconfig.yaml');
    const result = await runProcess(TEMPORAL_SERVER, ['validate-dynamic-config', file]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(file);
  });

  it('temporal-server starts on the two databases and answers SERVING', async () => {
    const store = {
      host: admin.hostname,
      port: Number(admin.port || 5432),
      user: decodeURIComponent(admin.username) || 'postgres',
      password: decodeURIComponent(admin.password),
    };
    server = new TemporalServer({
      dir,
      temporalCli,
      store: { ...store, database: TEMPORAL_DB },
      visibility: { ...store, database: VISIBILITY_DB },
    });
    await server.start();
    env = appEnv();
    connection = await Connection.connect({ address: server.address });
    const info = await connection.workflowService.getSystemInfo({});
    expect(info.serverVersion).toBe('1.29.1');
    // No namespace exists until the namespace script makes one: the dev server's auto-created
    // `default` is not there.
    const namespaces = await connection.workflowService.listNamespaces({});
    expect((namespaces.namespaces ?? []).map((ns) => ns.namespaceInfo?.name)).not.toContain(NAMESPACE);
  }, 120_000);

  it('rpa temporal setup before rpa migrate says to migrate first; rpa migrate prepares the app database', async () => {
    await adminQuery(`create database ${APP_DB}`);
    const early = await rpaCommand(['temporal', 'setup']);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toContain(
      'the app database (DATABASE_URL) is not migrated: run `rpa migrate` first',
    );
    const migrated = await rpaCommand(['migrate']);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout + migrated.stderr).toContain('migrations applied to DATABASE_URL');
  }, 120_000);

  it('rpa temporal setup on a namespace that does not exist fails naming it', async () => {
    const result = await rpaCommand(['temporal', 'setup']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `namespace ${NAMESPACE} does not exist on ${server?.address}: create it first (deploy/temporal-namespace.sh`,
    );
  }, 60_000);

  it('deploy/temporal-namespace.sh creates the namespace; run again it finds it', async () => {
    const namespaceEnv = withTools({
      TEMPORAL_ADDRESS: server?.address ?? '',
      TEMPORAL_NAMESPACE: NAMESPACE,
      // Shorter than the robots' retention: `rpa temporal setup` must raise it.
      NAMESPACE_RETENTION: '24h',
    });
    const script = path.join(ROOT, 'deploy', 'temporal-namespace.sh');
    const created = await runProcess('sh', [script], { env: namespaceEnv });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`temporal-namespace: created namespace '${NAMESPACE}' (retention 24h)`);
    const again = await runProcess('sh', [script], { env: namespaceEnv });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`temporal-namespace: namespace '${NAMESPACE}' exists`);
  }, 120_000);

  it('rpa temporal setup creates the search attributes and raises the retention; a second run changes nothing', async () => {
    type Setup = {
      namespace: string;
      searchAttributes: { created: string[]; existing: string[] };
      retentionDays: { wanted: number; before: number; after: number };
    };
    const attributes = ['RobotType', 'RobotStatus', 'ModuleName', 'RobotPriority'];
    const first = json<Setup>(await rpaCommand(['temporal', 'setup']));
    expect(first.namespace).toBe(NAMESPACE);
    expect(first.searchAttributes.created.sort()).toEqual([...attributes].sort());
    expect(first.retentionDays).toEqual({ wanted: 30, before: 1, after: 30 });
    const second = json<Setup>(await rpaCommand(['temporal', 'setup']));
    expect(second.searchAttributes).toEqual({ created: [], existing: attributes });
    expect(second.retentionDays).toEqual({ wanted: 30, before: 30, after: 30 });
    // What the server itself now says: Keyword attributes on this namespace (SQL visibility maps
    // them to its own columns per namespace), and 30 days of retention.
    const listed = await connection?.operatorService.listSearchAttributes({ namespace: NAMESPACE });
    for (const name of attributes) expect(listed?.customAttributes?.[name]).toBe(2);
    const described = await connection?.workflowService.describeNamespace({ namespace: NAMESPACE });
    expect(Number(described?.config?.workflowExecutionRetentionTtl?.seconds)).toBe(30 * 86_400);
  }, 120_000);

  it('rpa temporal setup run moments after the namespace was created waits for the frontend to know it', async () => {
    const fresh = `${NAMESPACE}-late`;
    // A lookup first, so the frontend's namespace cache holds "not found" for it, as it does when
    // setup races a namespace being created; then the namespace, then setup at once.
    const missing = await connection?.operatorService.listSearchAttributes({ namespace: fresh }).then(
      () => 'found',
      (err: unknown) => (err as { code?: number }).code,
    );
    expect(missing).toBe(5);
    await connection?.workflowService.registerNamespace({
      namespace: fresh,
      workflowExecutionRetentionPeriod: msNumberToTs(30 * 86_400_000),
    });
    const result = await rpaCommand(['temporal', 'setup'], { TEMPORAL_NAMESPACE: fresh });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const listed = await connection?.operatorService.listSearchAttributes({ namespace: fresh });
    expect(listed?.customAttributes?.RobotType).toBe(2);
  }, 120_000);

  it('the API, a control worker and two module workers run robots; both module workers take steps; visibility filters find them', async () => {
    const apiPort = await freePort();
    const logs = path.join(dir, 'logs');
    const api = new RpaProcess('api', ['api'], { ...env, PORT: String(apiPort), HOST: '127.0.0.1' }, logs);
    const control = new RpaProcess('control', ['worker', '--control'], env, logs);
    const modules = [1, 2].map(
      (i) => new RpaProcess(`module-${i}`, ['worker', '--module', 'default', '--capacity', '2'], env, logs),
    );
    processes.push(api, control, ...modules);
    api.start();
    control.start();
    for (const worker of modules) worker.start();
    await api.printed('api listening', 60_000);
    await control.printed('control worker started', 60_000);
    for (const worker of modules) await worker.printed('module worker started', 60_000);

    const created = json<{ key: string }>(
      await rpaCommand(['keys', 'create', '--name', 'cluster-walk', '--scopes', 'admin']),
    );
    const base = `http://127.0.0.1:${apiPort}`;
    const call = async (pathname: string, body?: unknown) => {
      const res = await fetch(`${base}${pathname}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          authorization: `Bearer ${created.key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await eventually(async () => {
      const res = await call('/v1/modules/default');
      return (res.body.live as { replicas?: number } | undefined)?.replicas === 2 ? true : undefined;
    }, 30_000);

    const start = async (type: string, input: unknown) => {
      const res = await call('/v1/robots', { type, input });
      if (res.status !== 201) throw new Error(`POST /v1/robots ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body.robotId as string;
    };
    const noop = await Promise.all(
      Array.from({ length: NOOP_ROBOTS }, () => start('noop-pipeline', { holdMs: 300 })),
    );
    const demo = await Promise.all(
      Array.from({ length: DEMO_ROBOTS }, (_, i) => start('demo', { text: `order ${i}: quantity 3` })),
    );
    const all = [...noop, ...demo];
    await eventually(
      async () => {
        const statuses = await Promise.all(
          all.map(async (id) => (await call(`/v1/robots/${id}`)).body.status),
        );
        if (statuses.some((status) => status === 'failed' || status === 'cancelled'))
          throw new Error(`a robot ended ${JSON.stringify(statuses)}`);
        return statuses.every((status) => status === 'completed') ? true : undefined;
      },
      90_000,
      250,
    );

    // Which process completed each module step: the identity Temporal recorded, `<pid>@<host>`.
    temporal = new TemporalClient({ connection: connection as Connection, namespace: NAMESPACE });
    const perWorker = new Map<number, number>(modules.map((worker) => [worker.pid ?? 0, 0]));
    for (const robotId of noop) {
      const history = await temporal.workflow.getHandle(robotId).fetchHistory();
      for (const event of history.events ?? []) {
        const pid = Number(event.activityTaskCompletedEventAttributes?.identity?.split('@')[0]);
        if (perWorker.has(pid)) perWorker.set(pid, (perWorker.get(pid) ?? 0) + 1);
      }
    }
    const counts = [...perWorker.values()];
    console.log(`module steps per worker process: ${JSON.stringify(counts)}`);
    expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(NOOP_ROBOTS * 3);
    for (const count of counts) expect(count).toBeGreaterThan(0);

    // Bulk dry runs whose filter goes through Temporal's SQL visibility: our search attributes.
    const dryRun = async (filter: Record<string, unknown>) => {
      const res = await call('/v1/robots/bulk/cancel', { filter, dryRun: true });
      if (res.status !== 200) throw new Error(`bulk dry run ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body as { matched: number; sample: string[] };
    };
    const byType = await eventually(async () => {
      const answer = await dryRun({ query: "RobotType = 'noop-pipeline' AND RobotStatus = 'completed'" });
      return answer.matched === NOOP_ROBOTS ? answer : undefined;
    }, 30_000);
    expect([...byType.sample].sort()).toEqual([...noop].sort());
    const demoOnDefault = await eventually(async () => {
      const answer = await dryRun({ type: 'demo', module: 'default', query: "RobotPriority = 'normal'" });
      return answer.matched === DEMO_ROBOTS ? answer : undefined;
    }, 30_000);
    expect([...demoOnDefault.sample].sort()).toEqual([...demo].sort());
    expect((await dryRun({ status: 'completed', query: "RobotType = 'email-reply'" })).matched).toBe(0);
    // A query SQL visibility refuses is the caller's mistake, answered 400 with the server's reason.
    const refused = await call('/v1/robots/bulk/cancel', {
      filter: { query: "NoSuchAttribute = 'x'" },
      dryRun: true,
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('NoSuchAttribute');

    // The maintenance reconciler lists robot workflows through visibility too (double-quoted values).
    const cleanup = temporal.workflow.getHandle(maintenanceWorkflowId(DEFAULT_CONTROL_TASK_QUEUE, 'cleanup'));
    const request = `cluster-walk-${suffix}`;
    await cleanup.signal('runNow', request);
    const status = await eventually(async () => {
      const answer = await cleanup.query<{
        served: string[];
        lastError: string | null;
        lastResult: { workflowsSeen?: number } | null;
      }>('maintenanceStatus');
      return answer.served.includes(request) ? answer : undefined;
    }, 60_000);
    expect(status.lastError).toBeNull();
    // A namespace of its own: the robots of this walk are the only robot workflows there.
    expect(status.lastResult?.workflowsSeen).toBe(all.length);
  }, 300_000);
});
