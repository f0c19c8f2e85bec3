import { randomUUID } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import request from 'supertest';
import type { HealthReport } from '../../api/health-probe';
import { HealthProbe } from '../../api/health-probe';
import { frontDoor } from '../../api/hot-path/front-door';
import { type ApiParts, composeApi, createApiServices, hotPathsOf } from '../../api/server';
import type { Scope } from '../../core/domain/api-key-scopes';
import type { RobotView } from '../../core/domain/robot';
import { createLogger } from '../../core/observability/logger';
import { cacheRequests, httpRequestDuration } from '../../core/observability/metrics';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The fast paths (api/hot-path) must answer exactly as the Express stack does, and hand everything
// else to it without counting a request twice. Two servers over the same parts: the front door in
// front of the Express app (counting what it hands on), and the Express app alone.

const PER_KEY = 6;
let system: TestSystem;
let frontUrl: string;
let expressUrl: string;
let handedOn = 0;
let report: HealthReport;
let health: HealthProbe;
const servers: Server[] = [];
let closeHotPaths: () => void = () => undefined;

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    env: {
      RATE_LIMIT_PER_KEY: String(PER_KEY),
      RATE_LIMIT_WINDOW_SECONDS: '3600',
      RATE_LIMIT_OVERRIDES: 'admin=100000',
      API_KEY_CACHE_SECONDS: '1',
    },
  });
  const parts: ApiParts = {
    config: system.config,
    logger: createLogger({ ...system.config, LOG_LEVEL: 'silent' }, 'hot-paths'),
    database: system.database,
    cache: system.cache,
    temporal: system.temporal,
    moduleStores: system.moduleStores,
    events: system.events,
    security: system.security,
  };
  // A report the test sets (refreshed on every request), so both servers show the same one.
  report = healthReport('ok');
  health = new HealthProbe(async () => report, 0);
  const app = composeApi(parts, createApiServices(parts), health);
  const hot = hotPathsOf(parts, health);
  closeHotPaths = hot.close;
  expect(hot.hotPaths).toHaveLength(2);
  frontUrl = await listen(
    frontDoor((req, res) => {
      handedOn += 1;
      app(req, res);
    }, hot.hotPaths),
  );
  expressUrl = await listen(app);
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  closeHotPaths();
  await system?.close();
});

/** Headers that may differ between two answers to the same request: time, and the limiter's count. */
const VARYING = new Set(['date', 'connection', 'keep-alive', 'ratelimit-remaining', 'ratelimit-reset']);
const comparable = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !VARYING.has(name)));

function healthReport(status: HealthReport['status']): HealthReport {
  const up = { status: 'up' as const, latencyMs: 1 };
  const modules =
    status === 'degraded' ? { status: 'down' as const, latencyMs: 1, live: 0 } : { ...up, live: 1 };
  const database =
    status === 'unavailable' ? { status: 'down' as const, latencyMs: 1000, error: 'gone' } : up;
  return {
    status,
    checkedAt: new Date().toISOString(),
    components: { database, cache: up, temporal: up, modules },
  };
}

async function cachedRobot(): Promise<RobotView> {
  const now = new Date().toISOString();
  const view: RobotView = {
    robotId: randomUUID(),
    type: 'demo',
    typeVersion: 1,
    status: 'completed',
    priority: 'normal',
    moduleName: 'm1',
    input: { text: 'ünïcode & "quotes"' },
    output: { ok: true },
    progress: null,
    routing: [],
    error: null,
    processingTimeMs: 12,
    retryCount: 0,
    completenessScore: null,
    sla: null,
    createdAt: now,
    updatedAt: now,
  };
  await system.cache.set(view);
  return view;
}

async function keyWith(scopes: Scope[]): Promise<string> {
  return (await system.security.keys.create({ name: 'hot-paths', scopes, expiresAt: null })).key;
}

describe('/health before Express', () => {
  it.each(['ok', 'degraded', 'unavailable'] as const)(
    'a %s report: the same status, JSON and headers as the Express route, Express not run',
    async (status) => {
      report = healthReport(status);
      await health.current(); // serves the last report, refreshes to this one in the background
      await new Promise((resolve) => setTimeout(resolve, 20));
      for (const path of ['/health', '/health/ready', '/health/live']) {
        const before = handedOn;
        const fast = await request(frontUrl).get(path);
        const express = await request(expressUrl).get(path);
        expect(handedOn).toBe(before);
        expect(fast.status).toBe(express.status);
        expect(fast.text).toBe(express.text);
        expect(comparable(fast.headers)).toEqual(comparable(express.headers));
      }
      const expected = { ok: [200, 200], degraded: [503, 200], unavailable: [503, 503] }[status];
      expect((await request(frontUrl).get('/health')).status).toBe(expected[0]);
      expect((await request(frontUrl).get('/health/ready')).status).toBe(expected[1]);
    },
  );
});

describe('GET /v1/robots/:id of a cached robot', () => {
  it('answers with the body and headers the Express stack sends, without running Express', async () => {
    const robot = await cachedRobot();
    const key = await keyWith(['robots:read']);
    const get = (base: string) =>
      request(base)
        .get(`/v1/robots/${robot.robotId}`)
        .set('authorization', `Bearer ${key}`)
        .set('x-request-id', `hot-${robot.robotId}`);
    const counted = async () => {
      const labels = { method: 'GET', route: '/v1/robots/:id', status: '200' };
      const timed = (await httpRequestDuration.get()).values.find(
        (v) =>
          v.metricName === 'rpa_http_request_duration_seconds_count' &&
          JSON.stringify(v.labels) === JSON.stringify(labels),
      );
      const hits = (await cacheRequests.get()).values.find(
        (v) => v.labels.family === 'robotStatus' && v.labels.result === 'hit',
      );
      return [timed?.value ?? 0, hits?.value ?? 0];
    };
    const before = handedOn;
    const [timedBefore, hitsBefore] = await counted();
    const fast = await get(frontUrl);
    expect(handedOn).toBe(before);
    // Counted in the same metrics as the Express route: request time by route pattern, cache hits.
    expect(await counted()).toEqual([(timedBefore ?? 0) + 1, (hitsBefore ?? 0) + 1]);
    const express = await get(expressUrl);
    expect(fast.status).toBe(200);
    expect(fast.headers['x-robot-source']).toBe('cache');
    expect(fast.headers['x-request-id']).toBe(`hot-${robot.robotId}`);
    expect(fast.body).toMatchObject({
      robotId: robot.robotId,
      links: { self: `/v1/robots/${robot.robotId}` },
    });
    expect(fast.text).toBe(express.text);
    expect(comparable(fast.headers)).toEqual(comparable(express.headers));
    expect(Number(fast.headers['ratelimit-remaining'])).toBe(PER_KEY - 1);
    expect(Number(express.headers['ratelimit-remaining'])).toBe(PER_KEY - 2);
  });

  it('makes a request id when the caller sends none or an unusable one', async () => {
    const robot = await cachedRobot();
    const key = await keyWith(['robots:read']);
    const res = await request(frontUrl)
      .get(`/v1/robots/${robot.robotId}`)
      .set('x-api-key', key)
      .set('x-request-id', 'not ok!');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('revoked keys on the fast path', () => {
  it('a revoke through this API stops the key at once; one made elsewhere within API_KEY_CACHE_SECONDS', async () => {
    const robot = await cachedRobot();
    const read = (key: string) =>
      request(frontUrl).get(`/v1/robots/${robot.robotId}`).set('authorization', `Bearer ${key}`);

    const here = await system.security.keys.create({
      name: 'revoked here',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    expect((await read(here.key)).status).toBe(200);
    // The verifier of this API (the one the fast path uses) forgets its cached rows on revoke.
    expect(
      (
        await request(frontUrl)
          .delete(`/v1/keys/${here.row.id}`)
          .set('authorization', `Bearer ${system.adminKey}`)
      ).status,
    ).toBe(200);
    const refused = await read(here.key);
    expect(refused.status).toBe(401);
    expect(refused.body.reason).toBe('revoked');

    const elsewhere = await system.security.keys.create({
      name: 'revoked elsewhere',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    expect((await read(elsewhere.key)).status).toBe(200);
    // Another replica or the CLI: only the database changes; the cached row lives API_KEY_CACHE_SECONDS (1 s here).
    await system.sql.query('update api_keys set revoked_at = now() where id = $1', [elsewhere.row.id]);
    const started = Date.now();
    const later = await eventually(async () => {
      const res = await read(elsewhere.key);
      return res.status === 401 ? res : undefined;
    }, 5000);
    expect(later.body.reason).toBe('revoked');
    expect(Date.now() - started).toBeLessThan(1000 + 500);
  });
});

describe('what the fast path declines, Express answers as always', () => {
  it('401 without a key or with a bad one, 403 without the scope, 404 for an unknown robot', async () => {
    const robot = await cachedRobot();
    const modulesOnly = await keyWith(['modules:read']);
    const reader = await keyWith(['robots:read']);
    const cases: { path: string; key?: string; status: number; type: string }[] = [
      { path: `/v1/robots/${robot.robotId}`, status: 401, type: '/problems/unauthorized' },
      {
        path: `/v1/robots/${robot.robotId}`,
        key: 'rpa_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        status: 401,
        type: '/problems/unauthorized',
      },
      { path: `/v1/robots/${robot.robotId}`, key: modulesOnly, status: 403, type: '/problems/forbidden' },
      { path: `/v1/robots/${randomUUID()}`, key: reader, status: 404, type: '/problems/not-found' },
      { path: '/v1/robots/not-a-uuid', key: reader, status: 400, type: '/problems/validation-error' },
    ];
    for (const { path, key, status, type } of cases) {
      const get = (base: string) => {
        const req = request(base).get(path).set('x-request-id', `declined-${status}`);
        return key ? req.set('authorization', `Bearer ${key}`) : req;
      };
      const before = handedOn;
      const fast = await get(frontUrl);
      expect(handedOn).toBe(before + 1);
      const express = await get(expressUrl);
      expect({ path, status: fast.status }).toEqual({ path, status });
      expect(fast.body.type).toBe(type);
      expect(fast.body).toEqual(express.body);
      expect(comparable(fast.headers)).toEqual(comparable(express.headers));
    }
  });

  it('counts each request once, whichever path answers it, and refuses past the limit with 429', async () => {
    // A window boundary would carry part of the count over: keep clear of the hourly one.
    const toBoundary = 3_600_000 - (Date.now() % 3_600_000);
    if (toBoundary < 30_000) await new Promise((resolve) => setTimeout(resolve, toBoundary + 100));
    const robot = await cachedRobot();
    const key = await keyWith(['robots:read']);
    const get = (id: string, requestId?: string) => {
      const req = request(frontUrl).get(`/v1/robots/${id}`).set('authorization', `Bearer ${key}`);
      return requestId ? req.set('x-request-id', requestId) : req;
    };
    const seen: [number, number][] = [];
    for (const id of [
      robot.robotId,
      randomUUID(),
      robot.robotId,
      randomUUID(),
      robot.robotId,
      robot.robotId,
    ]) {
      const res = await get(id);
      seen.push([res.status, Number(res.headers['ratelimit-remaining'])]);
    }
    expect(seen).toEqual([
      [200, 5],
      [404, 4],
      [200, 3],
      [404, 2],
      [200, 1],
      [200, 0],
    ]);
    const requestId = `hot-429-${robot.robotId}`;
    const before = handedOn;
    const refused = await get(robot.robotId, requestId);
    expect(handedOn).toBe(before + 1);
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429, limit: PER_KEY });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    // The refusal is audited as on the Express path.
    const row = await eventually(async () => {
      const rows = await system.sql.query('select * from audit_log where request_id = $1', [requestId]);
      return rows.rows[0];
    }, 5000);
    expect(row).toMatchObject({ outcome: 'rate-limited', status: 429 });
  });
});
