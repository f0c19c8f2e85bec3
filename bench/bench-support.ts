// What every benchmark under bench/ shares: the bounded request loop and its statistics, the
// machine description, Temporal / Postgres / Redis set-up and clean-up, results files, the
// BENCHMARKS.md section rewrite, and a runner that cleans up on errors, SIGINT and a hard timeout.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import Redis from 'ioredis';
import { createSecurity } from '../api/security';
import { startTemporalDevServer, temporalReachable } from '../cli/temporal-dev-server';
import { createStatusCache } from '../core/adapters/redis/cache.builder';
import { createRobotEvents } from '../core/adapters/redis/robot-events.redis';
import { temporalConnectionOptions } from '../core/adapters/temporal/connection.options';
import { type Config, parseConfig } from '../core/config';
import { createLogger } from '../core/observability/logger';
import { ApiKeysRepository } from '../db/api-keys.repository';
import { createDatabase, type DatabaseHandle } from '../db/client';
import { migratePostgres } from '../db/migrate';
import { createModuleStores } from '../db/module-stores';
import { adminQuery, databaseUrl, TEST_REDIS_URL } from '../test/support/test-env';

export const ROOT = path.resolve(__dirname, '..');
const BENCHMARKS_FILE = path.join(ROOT, 'BENCHMARKS.md');
// Never the developer's 7233/8233 nor the tests' 7255; BENCH_TEMPORAL_PORT moves it, so that two
// benches can run side by side (each in its own checkout).
const DEV_SERVER_PORT = Number(process.env.BENCH_TEMPORAL_PORT ?? 7266);

export interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  max: number;
  opsPerSecond: number;
}
export type StatKey = 'p50' | 'p90' | 'p99' | 'mean' | 'max';
export const STAT_KEYS: StatKey[] = ['p50', 'p90', 'p99', 'mean', 'max'];

export interface Sample {
  latencies: number[];
  errors: string[];
  wallMs: number;
}

/** Set by SIGINT or the hard timeout: loops stop issuing work, then everything is cleaned up. */
export const interruption = { aborted: false, reason: '' };

export function throwIfInterrupted(): void {
  if (interruption.aborted) throw new Error(interruption.reason);
}

/**
 * How a run was asked for. `--smoke`: the same code with tiny sizes, seconds per bench, to prove that
 * it still runs end to end (test/e2e/bench-smoke.test.ts); its figures mean nothing, so it never
 * touches BENCHMARKS.md. `--out FILE`: where the results JSON goes instead of bench/results/.
 */
export interface RunMode {
  smoke: boolean;
  out: string | null;
}

type IntDefaults = Record<string, number | number[]>;

/**
 * The command line: `--smoke`, `--out FILE` and the bench's `--name N` options, positive integers,
 * each with its default (from `smoke` under `--smoke`); a default that is a list takes
 * `--name 1,2,3`. An option given explicitly wins in both modes. Unknown options are errors.
 */
export function benchOptions<D extends IntDefaults>(defaults: D, smoke: D): { opts: D; mode: RunMode } {
  const options = Object.fromEntries(
    Object.keys(defaults).map((name) => [name, { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    options: { ...options, smoke: { type: 'boolean' }, out: { type: 'string' } },
  }) as { values: Record<string, string | boolean | undefined> };
  const mode: RunMode = {
    smoke: values.smoke === true,
    out: typeof values.out === 'string' ? path.resolve(values.out) : null,
  };
  const parsed = Object.entries(mode.smoke ? smoke : defaults).map(([name, fallback]) => {
    const raw = values[name];
    if (typeof raw !== 'string') return [name, fallback];
    const list = raw.split(',').map(Number);
    if (!list.every((n) => Number.isInteger(n) && n > 0) || (!Array.isArray(fallback) && list.length !== 1)) {
      throw new Error(
        `--${name} must be a positive integer${Array.isArray(fallback) ? ' list, e.g. 1,2,3' : ''}`,
      );
    }
    return [name, Array.isArray(fallback) ? list : list[0]];
  });
  return { opts: Object.fromEntries(parsed) as D, mode };
}

/** Runs `count` operations with `concurrency` in flight; records each successful one's latency in ms. */
export async function measure(count: number, concurrency: number, op: () => Promise<void>): Promise<Sample> {
  const sample: Sample = { latencies: [], errors: [], wallMs: 0 };
  let issued = 0;
  const lane = async () => {
    while (issued < count && !interruption.aborted) {
      issued += 1;
      const started = performance.now();
      try {
        await op();
        sample.latencies.push(performance.now() - started);
      } catch (err) {
        sample.errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  sample.wallMs = performance.now() - started;
  return sample;
}

export function merge(samples: Sample[]): Sample {
  return {
    latencies: samples.flatMap((s) => s.latencies),
    errors: samples.flatMap((s) => s.errors),
    wallMs: samples.reduce((sum, s) => sum + s.wallMs, 0),
  };
}

/** Percentiles (nearest rank) of the latencies, rounded to `digits` decimals; ops/s over the wall time. */
export function summarize(sample: Sample, digits = 2): Stats {
  const sorted = Float64Array.from(sample.latencies).sort();
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const round = (value: number) => Math.round(value * 10 ** digits) / 10 ** digits;
  return {
    count: sorted.length,
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length)),
    max: round(sorted.at(-1) ?? Number.NaN),
    opsPerSecond: Math.round((sorted.length / Math.max(1, sample.wallMs)) * 1000),
  };
}

/**
 * A line when a side answered fewer than 95% of the requests a fixed-rate run asked for: the server
 * could not keep up, and its per-response latencies leave out the time requests waited to be sent
 * (the JSON's autocannon figures are corrected for that); null when it kept up.
 */
export function rateShortfall(label: string, stats: Stats, askedPerSecond: number): string | null {
  if (stats.opsPerSecond >= 0.95 * askedPerSecond) return null;
  return `${label} answered ${stats.opsPerSecond} req/s of the ${askedPerSecond} asked: it could not keep up, so its latencies leave out the time requests waited to be sent (see the JSON's autocannon figures, corrected for coordinated omission).`;
}

export function table(rows: [string, string[]][], header: string[]): string {
  const width = Math.max(...rows.map(([label]) => label.length), 24);
  const line = (label: string, cells: string[]) =>
    `${label.padEnd(width)}${cells.map((cell) => cell.padStart(10)).join('')}`;
  return [line('', header), ...rows.map(([label, cells]) => line(label, cells))].join('\n');
}

/** The console table's rows as Markdown; the label column left-aligned, the others right-aligned. */
export function markdownTable(header: string[], rows: [string, string[]][]): string[] {
  const align = header.map((_, index) => (index === 0 ? '---' : '---:'));
  return [header, align, ...rows.map(([label, cells]) => [label, ...cells])].map(
    (row) => `| ${row.join(' | ')} |`,
  );
}

export type Machine = Awaited<ReturnType<typeof describeMachine>>;

export async function describeMachine(connection: Connection | null, temporal: string) {
  const info = connection ? await connection.workflowService.getSystemInfo({}) : null;
  const cpu = os.cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporalServer: info?.serverVersion || 'unknown',
    temporal,
  };
}

/** One line for the console. */
export const machineSummary = (m: Machine, servers = `Temporal ${m.temporalServer}`) =>
  `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${servers}`;

/** The two lines that open every BENCHMARKS.md section; `servers` names what the bench talked to. */
export const measuredOn = (
  date: string,
  m: Machine,
  servers = `Temporal server ${m.temporalServer} (${m.temporal})`,
) => [
  `Measured ${date} on ${m.cpu} (${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}),`,
  `Node ${m.node}, ${servers}.`,
];

/**
 * Prints the run's errors, if any; writes the results JSON (with `smoke` and the error count) to
 * `--out`, else bench/results/<name>.json (gitignored; <name>.smoke.json for a smoke run). For a full
 * run without errors that has a `section`, rewrites the text between `<!-- name:start -->` and
 * `<!-- name:end -->` in BENCHMARKS.md (or appends a section). Returns the exit code.
 */
export function publish(
  name: string,
  mode: RunMode,
  errors: string[],
  result: object,
  section: string[] | null,
): number {
  if (errors.length > 0) {
    console.error(`\n${errors.length} errors, e.g.:\n  ${[...new Set(errors)].slice(0, 5).join('\n  ')}`);
  }
  const file = mode.out ?? path.join(ROOT, 'bench', 'results', `${name}${mode.smoke ? '.smoke' : ''}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  const json = { ...result, smoke: mode.smoke, errors: errors.length };
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults written to ${path.relative(process.cwd(), file)}`);
  if (errors.length > 0) return 1;
  if (mode.smoke) {
    console.log('smoke run: its figures mean nothing, BENCHMARKS.md left as it is');
    return 0;
  }
  if (!section) return 0;
  const [startMarker, endMarker] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const block = `${startMarker}\n${section.join('\n')}\n${endMarker}`;
  const current = existsSync(BENCHMARKS_FILE) ? readFileSync(BENCHMARKS_FILE, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${block}${current.slice(end + endMarker.length)}`
      : `${current.trimEnd()}\n\n## ${name}\n\n${block}\n`;
  writeFileSync(BENCHMARKS_FILE, next);
  console.log(`${path.relative(process.cwd(), BENCHMARKS_FILE)} updated`);
  return 0;
}

export type Defer = (cleanup: () => Promise<unknown>) => void;

/** BENCH_DATABASE_SUFFIX names a full run's database apart from another checkout's full run. */
function fullRunSuffix(): string {
  const suffix = process.env.BENCH_DATABASE_SUFFIX ?? '';
  if (!/^[a-z0-9_]*$/.test(suffix)) throw new Error('BENCH_DATABASE_SUFFIX may hold only a-z, 0-9 and _');
  return suffix ? `_${suffix}` : '';
}

/**
 * A fresh, migrated database (a smoke run's is named after the run, so that it never drops the
 * database of a full run going on beside it); Temporal when asked (TEMPORAL_ADDRESS when it answers,
 * else a headless in-memory dev server on 7266); the run's configuration (production mode, silent
 * logs, the machine's Redis under a key prefix of its own, its own control queue) and a suffix unique
 * to the run. The database is dropped, the server stopped and the Redis keys deleted at the end.
 */
export async function benchEnvironment(baseName: string, mode: RunMode, defer: Defer, withTemporal: boolean) {
  const suffix = randomBytes(4).toString('hex');
  const database = mode.smoke ? `${baseName}_smoke_${suffix}` : `${baseName}${fullRunSuffix()}`;
  await adminQuery(`drop database if exists ${database} with (force)`);
  await adminQuery(`create database ${database}`);
  defer(() => adminQuery(`drop database if exists ${database} with (force)`));
  await migratePostgres(databaseUrl(database));
  let address = process.env.TEMPORAL_ADDRESS;
  let temporal = `TEMPORAL_ADDRESS ${address}`;
  let temporalPid: number | null = null; // known only for a dev server started here
  if (withTemporal && !(address && (await temporalReachable(address)))) {
    const server = await startTemporalDevServer({
      root: ROOT,
      port: DEV_SERVER_PORT,
      logFile: path.join(ROOT, '.data', 'bench', 'temporal.log'),
      namespace: 'default',
    });
    defer(() => server.stop());
    [address, temporal] = [server.address, 'dev server started by the bench, in-memory SQLite'];
    temporalPid = server.process.pid ?? null;
  }
  const config = parseConfig({
    ...process.env,
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    DATABASE_URL: databaseUrl(database),
    DATABASE_READ_URL: undefined,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: `rpa-bench-${suffix}:`,
    TEMPORAL_ADDRESS: address,
    // Production processes (`rpa api`, `rpa worker`) refuse to start without a secrets key.
    SECRETS_KEYS: process.env.SECRETS_KEYS || `bench:${randomBytes(32).toString('base64')}`,
    CONTROL_TASK_QUEUE: `rpa-control-bench-${suffix}`,
    // Limits stay on the path (their Redis round trip is part of the cost) but never refuse here.
    RATE_LIMIT_PER_KEY: '100000000',
    MAX_RUNNING_ROBOTS_PER_KEY: '10000000',
  });
  defer(async () => {
    const deleted = await deleteRedisKeys(TEST_REDIS_URL, config.REDIS_KEY_PREFIX);
    if (deleted > 0) console.log(`deleted ${deleted} Redis keys under ${config.REDIS_KEY_PREFIX}`);
  });
  return { config, suffix, temporal: withTemporal ? temporal : 'not used', temporalPid };
}

/** Deletes every Redis key under `prefix` (the run's REDIS_KEY_PREFIX); returns how many. */
async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<number> {
  if (!/^[A-Za-z0-9:_-]+:$/.test(prefix)) throw new Error(`refusing to delete keys under "${prefix}"`);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 2000 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

/** Terminates what the run started: the ids we know, then whatever visibility still lists as running. */
export async function terminateAll(client: Client, taskQueue: string, ids: string[]): Promise<number> {
  const deadline = Date.now() + 120_000;
  const terminate = async (id: string) => {
    try {
      await client.workflow.getHandle(id).terminate('benchmark cleanup');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  };
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let id = queue.pop(); id !== undefined && Date.now() < deadline; id = queue.pop()) {
        await terminate(id);
      }
    }),
  );
  const query = `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"`;
  for (let pass = 0; pass < 5 && Date.now() < deadline; pass += 1) {
    const stragglers: string[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
      stragglers.push(execution.workflowId);
      if (stragglers.length >= 10_000) break;
    }
    if (stragglers.length === 0) return 0;
    await Promise.all(stragglers.map((id) => terminate(id).catch(() => undefined)));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let visibility catch up
  }
  return (await client.workflow.count(query)).count;
}

/**
 * Runs a bench's main: its deferred cleanups run last-in first-out whatever happens. SIGINT or the
 * hard timeout stop the loops (in-flight operations finish) and clean up; a second SIGINT, or a
 * cleanup still running a minute after the timeout, exits at once. Sets the exit code.
 */
export function runBench(main: (defer: Defer) => Promise<number>, hardTimeoutMs = 300_000): void {
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = (reason: string) => {
    if (interruption.aborted) return;
    interruption.aborted = true;
    interruption.reason = reason;
    console.error(`\n${reason}: stopping and cleaning up`);
    setTimeout(() => {
      console.error('cleanup did not finish within a minute; exiting');
      process.exit(1);
    }, 60_000).unref();
  };
  const timer = setTimeout(() => stop(`hard timeout after ${hardTimeoutMs / 1000} s`), hardTimeoutMs);
  timer.unref();
  process.once('SIGINT', () => {
    stop('interrupted');
    process.once('SIGINT', () => process.exit(130));
  });
  const run = async () => {
    let exitCode = 0;
    try {
      exitCode = await main((cleanup) => cleanups.push(cleanup));
    } catch (err) {
      const interrupted = err instanceof Error && interruption.aborted && err.message === interruption.reason;
      if (!interrupted) console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      exitCode = 1;
    } finally {
      for (const cleanup of cleanups.reverse()) {
        await cleanup().catch((err: unknown) => {
          console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`);
          exitCode = 1;
        });
      }
      clearTimeout(timer);
    }
    return interruption.aborted ? Math.max(exitCode, 1) : exitCode;
  };
  void run().then((code) => {
    process.exitCode = code;
  });
}

/** The Redis server's version, from `INFO server`, for the "measured on" lines. */
export async function redisServerVersion(redis: Redis): Promise<string> {
  return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
}

/** Every /v1 call needs a key: an admin key in the bench's own database, which goes with it. */
export async function benchApiKey(database: DatabaseHandle): Promise<string> {
  const keys = new ApiKeysRepository(database.db);
  return (await keys.create({ name: 'bench', scopes: ['admin'], expiresAt: null })).key;
}

/** What the API (composeApi) needs, each piece closed by `defer`: built alike by every API bench. */
export async function apiDependencies(config: Config, defer: Defer) {
  const logger = createLogger(config, 'bench');
  const database = await createDatabase(config);
  defer(() => database.close());
  const cache = createStatusCache(config);
  defer(() => cache.close());
  const moduleStores = createModuleStores(config, database);
  defer(() => moduleStores.close());
  const events = createRobotEvents(config);
  defer(() => events.close());
  const connection = await Connection.connect({
    ...temporalConnectionOptions(config),
    connectTimeout: '5 seconds',
  });
  defer(() => connection.close());
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const security = createSecurity(config, database, logger);
  defer(() => security.close());
  const authorization = `Bearer ${await benchApiKey(database)}`;
  return { logger, database, cache, moduleStores, events, connection, client, security, authorization };
}

/** Listens on a free loopback port; the server is closed (connections too) at the end of the run. */
export async function listen(server: http.Server, defer: Defer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}
