import { warmCaches } from '../../api/cache-warming';
import { moduleListKey } from '../../api/modules.service';
import { createApiServices } from '../../api/server';
import { robotStatusKey } from '../../core/adapters/redis/status-cache';
import { createLogger } from '../../core/observability/logger';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const robotIds: string[] = [];

beforeAll(async () => {
  // No module can run a demo robot, so the robots stay active (pending) for warming to find.
  system = await startTestSystem({ module: { name: 'other-work', robotTypes: ['invoice-intake'] } });
});

afterAll(async () => {
  for (const id of robotIds) {
    await system.temporal.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => undefined);
  }
  await system?.close();
});

describe('cache warming at API start', () => {
  it('fills active robots, the module list and the routing table', async () => {
    for (const text of ['a', 'b', 'c']) {
      const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text } });
      expect(created.status).toBe(201);
      robotIds.push(created.body.robotId);
    }
    await eventually(async () => {
      const rows = await system.sql.query("select count(*)::int as n from robots where status = 'pending'");
      return rows.rows[0].n === 3 ? true : undefined;
    });
    const manager = system.cache.manager;
    for (const id of robotIds) await manager.invalidate('robotStatus', id);
    await manager.invalidate('moduleHealth');

    const deps = {
      config: system.config,
      logger: createLogger(system.config, 'test'),
      database: system.database,
      cache: system.cache,
      temporal: system.temporal,
      moduleStores: system.moduleStores,
      events: system.events,
    };
    const api = createApiServices(deps);
    const warmed = await warmCaches({
      robots: api.robotsService,
      modules: api.modulesService,
      routingTable: system.moduleStores.routingTable,
      activeRobotLimit: 100,
      logger: deps.logger,
    });

    expect(warmed.robots).toBe(3);
    expect(warmed.moduleViews).toBe(1);
    expect(warmed.routes).toBe(1);
    for (const id of robotIds) {
      const cached = await system.cache.get(id);
      expect(cached?.status).toBe('pending');
      const ttl = await manager.remainingTtl(robotStatusKey(id));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(system.config.CACHE_STATUS_TTL_SECONDS);
    }
    const modules = await manager.get(moduleListKey());
    expect(modules?.map((module) => module.name)).toEqual(['other-work']);

    // Warming twice stores nothing new: it only fills what is absent.
    const again = await warmCaches({
      robots: api.robotsService,
      modules: api.modulesService,
      routingTable: system.moduleStores.routingTable,
      activeRobotLimit: 100,
      logger: deps.logger,
    });
    expect(again.robots).toBe(0);
  });

  it('a registry change invalidates the cached module list at once', async () => {
    const before = await system.api.get('/v1/modules');
    expect(before.body.modules ?? before.body).toBeDefined();
    const registered = await system.api.post('/v1/modules').send({
      name: 'ext-warm',
      version: '1.0.0',
      supportedRobotTypes: ['demo'],
      supportedSteps: ['validate'],
      capacity: 2,
    });
    expect(registered.status).toBe(201);
    expect(await system.cache.manager.get(moduleListKey())).toBeNull();
    const after = await system.api.get('/v1/modules');
    expect(JSON.stringify(after.body)).toContain('ext-warm');
  });
});

describe('/metrics', () => {
  it('exports HTTP, database, pool and cache families in Prometheus text format', async () => {
    await system.api.get(`/v1/robots/${robotIds[0]}`);
    const res = await system.api.get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.text;
    const sample = (pattern: RegExp) => {
      const line = text.split('\n').find((l) => pattern.test(l));
      expect(line).toBeDefined();
      return Number(line?.split(' ').pop());
    };
    expect(
      sample(/^rpa_http_request_duration_seconds_count\{method="POST",route="\/v1\/robots",status="201"\}/),
    ).toBeGreaterThanOrEqual(3);
    expect(
      sample(/^rpa_http_request_duration_seconds_count\{method="GET",route="\/v1\/robots\/:id"/),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(/^rpa_db_query_duration_seconds_count\{pool="write",operation="insert",table="robots"/),
    ).toBeGreaterThanOrEqual(3);
    expect(sample(/^rpa_db_pool_connections\{pool="write",state="idle"\}/)).toBeGreaterThanOrEqual(0);
    expect(sample(/^rpa_cache_requests_total\{family="robotStatus",result="hit"\}/)).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sample(/^rpa_cache_writes_total\{family="robotStatus",op="fill",result="ok"\}/),
    ).toBeGreaterThanOrEqual(3);
    expect(text).toContain('rpa_process_resident_memory_bytes');
  });
});
