import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { type RunningApi, startApi } from '../../api/server';
import type { Config } from '../../core/config';
import { createLogger } from '../../core/observability/logger';
import { metricsRegistry } from '../../core/observability/metrics';
import { serveWorkerMetrics } from '../../workers/metrics-server';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// /metrics of a real API process (startApi: its own pools, sampler and alerting) on this file's
// database. Its reads go through a read pool labelled "read" (DATABASE_READ_URL = the same
// database), which nothing else in this process has, so the metered pool counts exactly its
// statements on the robots table.

let system: TestSystem;
const running: RunningApi[] = [];
const closers: (() => Promise<void>)[] = [];
const TOKEN = 'scrape-token-0123456789abcdef';

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  for (const close of closers) await close();
  for (const api of running) await api.close();
  await system?.close();
});

async function apiProcess(overrides: Partial<Config> & Record<string, unknown>): Promise<RunningApi> {
  const config = {
    ...system.config,
    PORT: 0,
    DATABASE_READ_URL: system.config.DATABASE_URL,
    ALERT_EVALUATION_SECONDS: 3600,
    ...overrides,
  } as Config;
  const api = await startApi(config, createLogger(config, 'test'));
  running.push(api);
  return api;
}

async function insertRobots(type: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await system.sql.query('insert into robots (robot_id, robot_type, status) values ($1, $2, $3)', [
      randomUUID(),
      type,
      'queued',
    ]);
  }
}

/** Statements the "read" pool has sent about the robots table, from the process registry. */
async function readsOfRobots(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('rpa_db_query_duration_seconds')?.get();
  return (metric?.values ?? [])
    .filter(
      (value) =>
        (value as { metricName?: string }).metricName === 'rpa_db_query_duration_seconds_count' &&
        value.labels.pool === 'read' &&
        value.labels.table === 'robots',
    )
    .reduce((sum, value) => sum + value.value, 0);
}

function sampleOf(text: string, pattern: RegExp): number | undefined {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/metrics`, { headers });
}

describe('API /metrics', () => {
  it('serves robot gauges from the background sampler: a scrape sends no SQL', async () => {
    await insertRobots('sampled', 3);
    const api = await apiProcess({ METRICS_SAMPLE_SECONDS: 3600 });
    // The first sample runs at start.
    await eventually(async () => {
      const text = await (await scrape(api.url)).text();
      return sampleOf(text, /^rpa_robots\{status="queued",type="sampled"\}/) === 3 ? true : undefined;
    });
    // Let start-up reads (cache warming) settle, then scrape and count.
    let settled = await readsOfRobots();
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const now = await readsOfRobots();
      const stable = now === settled;
      settled = now;
      return stable ? true : undefined;
    });
    for (let i = 0; i < 5; i++) {
      const res = await scrape(api.url);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^rpa_robots\{status="queued",type="sampled"\} 3$/m);
    }
    expect((await readsOfRobots()) - settled).toBe(0);
  });

  it('updates the gauges after the sample interval', async () => {
    const api = await apiProcess({ METRICS_SAMPLE_SECONDS: 1 });
    await insertRobots('resampled', 1);
    await eventually(async () => {
      const text = await (await scrape(api.url)).text();
      return sampleOf(text, /^rpa_robots\{status="queued",type="resampled"\}/) === 1 ? true : undefined;
    }, 10_000);
    await insertRobots('resampled', 2);
    await eventually(async () => {
      const text = await (await scrape(api.url)).text();
      return sampleOf(text, /^rpa_robots\{status="queued",type="resampled"\}/) === 3 ? true : undefined;
    }, 10_000);
  });

  it('with METRICS_TOKEN: 401 without or with a wrong token, 200 with it or an admin API key', async () => {
    const api = await apiProcess({ METRICS_SAMPLE_SECONDS: 3600, METRICS_TOKEN: TOKEN });
    const none = await scrape(api.url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.text()).not.toContain('rpa_');
    expect((await scrape(api.url, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await scrape(api.url, { authorization: `Bearer ${TOKEN.slice(0, -1)}` })).status).toBe(401);
    expect((await scrape(api.url, { authorization: 'Basic abc' })).status).toBe(401);

    const ok = await scrape(api.url, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('rpa_process_cpu_seconds_total');
    // The dashboard sends its API key: an admin key may scrape, a narrower one may not.
    expect((await scrape(api.url, { authorization: `Bearer ${system.adminKey}` })).status).toBe(200);
    const reader = await system.security.keys.create({
      name: 'reader',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    expect((await scrape(api.url, { authorization: `Bearer ${reader.key}` })).status).toBe(403);
  });

  it('without METRICS_TOKEN stays open', async () => {
    const api = await apiProcess({ METRICS_SAMPLE_SECONDS: 3600 });
    expect((await scrape(api.url)).status).toBe(200);
  });
});

describe('worker /metrics', () => {
  it('with METRICS_TOKEN: 401 without or with a wrong token, 200 with it', async () => {
    const port = await freePort();
    const config = { ...system.config, WORKER_METRICS_PORT: port, METRICS_TOKEN: TOKEN } as Config;
    const close = await serveWorkerMetrics(config, createLogger(config, 'test'));
    expect(close).not.toBeNull();
    if (close) closers.push(close);
    const url = `http://127.0.0.1:${port}`;
    expect((await scrape(url)).status).toBe(401);
    expect((await scrape(url, { authorization: `Bearer wrong-${TOKEN}` })).status).toBe(401);
    const ok = await scrape(url, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('rpa_process_cpu_seconds_total');
  });
});
