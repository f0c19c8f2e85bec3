import type { RobotView } from '../../core/domain/robot';
import { TestRedisServer, testRedisPort } from '../support/redis-server';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

const redis = new TestRedisServer(testRedisPort());
let system: TestSystem;

beforeAll(async () => {
  await redis.start();
  system = await startTestSystem({ env: { REDIS_URL: redis.url } });
});

afterAll(async () => {
  await system?.close();
  await redis.kill();
});

async function runRobot(text: string): Promise<string> {
  const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text } });
  expect(created.status).toBe(201);
  await system.temporal.workflow.getHandle(created.body.robotId).result();
  return created.body.robotId as string;
}

describe('Redis stopped mid-run', () => {
  let before: string;

  it('answers from the cache while Redis is up', async () => {
    before = await runRobot('invoice before the outage');
    const res = await system.api.get(`/v1/robots/${before}`);
    expect(res.headers['x-robot-source']).toBe('cache');
  });

  it('keeps answering reads from Postgres and keeps running robots while Redis is down', async () => {
    await redis.kill();

    const read = await system.api.get(`/v1/robots/${before}`);
    expect(read.status).toBe(200);
    expect(read.headers['x-robot-source']).toBe('database');
    expect(read.body.status).toBe('completed');

    const during = await runRobot('invoice during the outage');
    const robot = (await system.api.get(`/v1/robots/${during}`)).body as RobotView;
    expect(robot).toMatchObject({ status: 'completed', moduleName: system.moduleName });
    expect(robot.routing[0]?.reason).toContain('live module state unavailable');

    // Health answers from a background probe (HEALTH_PROBE_MAX_AGE_MS): it turns within that bound.
    const health = await eventually(async () => {
      const res = await system.api.get('/health');
      return res.status === 503 ? res : undefined;
    }, 10_000);
    expect(health.body.status).toBe('degraded');
    expect(health.body.components.cache.status).toBe('down');
    expect(health.body.components.database.status).toBe('up');
    const ready = await system.api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
  }, 60_000);

  it('lost nothing: every robot row is complete in Postgres', async () => {
    const rows = await system.sql.query('select status, count(*)::int as n from robots group by status');
    expect(rows.rows).toEqual([{ status: 'completed', n: 2 }]);
  });

  it('answers a module heartbeat 503 with Retry-After, not 500, while liveness cannot be recorded', async () => {
    // An SDK module heartbeats through the API; its liveness lives in Redis (ADR 0005). The
    // outage is the store's, not a fault of the API: the replica is told to retry, as it does.
    const beat = await system.api
      .post(`/v1/modules/${system.moduleName}/heartbeat`)
      .send({ replicaId: 'outage-replica', capacity: 1 });
    expect(beat.status).toBe(503);
    expect(beat.body.type).toBe('/problems/service-unavailable');
    expect(Number(beat.headers['retry-after'])).toBeGreaterThan(0);
    const gone = await system.api.delete(`/v1/modules/${system.moduleName}/replicas/outage-replica`);
    expect(gone.status).toBe(503);
    expect(gone.body.type).toBe('/problems/service-unavailable');
  });

  it('refills the cache once Redis is back', async () => {
    await redis.start();
    await eventually(async () => {
      const health = await system.api.get('/health');
      return health.status === 200 ? true : undefined;
    }, 20_000);
    const after = await runRobot('invoice after the outage');
    // The cache's circuit breaker probes Redis again within CACHE_CIRCUIT_HALF_OPEN_SECONDS; from
    // then on a miss is filled from Postgres and the next read is a hit.
    const res = await eventually(async () => {
      const read = await system.api.get(`/v1/robots/${after}`);
      return read.headers['x-robot-source'] === 'cache' ? read : undefined;
    }, 20_000);
    const robot = res.body as RobotView;
    expect(robot.routing[0]?.reason).not.toContain('unavailable');
  }, 60_000);
});
