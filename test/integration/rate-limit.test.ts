import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { TestRedisServer, testRedisPort } from '../support/redis-server';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    module: false, // robots stay unfinished: the concurrency cap is what is tested
    env: {
      RATE_LIMIT_WINDOW_SECONDS: '2',
      RATE_LIMIT_PER_KEY: '5',
      RATE_LIMIT_PER_IP: '3',
      RATE_LIMIT_OVERRIDES: 'admin=1000,modules:read=7,DELETE /v1/keys=2',
      MAX_RUNNING_ROBOTS_PER_KEY: '2',
    },
  });
});

afterAll(async () => {
  for await (const wf of system.temporal.workflow.list({
    query: `TaskQueue = "${system.config.CONTROL_TASK_QUEUE}" AND ExecutionStatus = "Running"`,
  })) {
    await system.temporal.workflow
      .getHandle(wf.workflowId)
      .terminate('test over')
      .catch(() => undefined);
  }
  await system?.close();
});

async function makeKey(scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await system.api.post('/v1/keys').send({ name: 'limited', scopes });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key };
}

/** Waits until the start of a fresh 2 s window, so a burst is not split across two windows. */
async function freshWindow(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 4000 - (Date.now() % 2000)));
}

function expectRateLimited(res: request.Response, type = 'rate-limited') {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `/problems/${type}`, status: 429 });
  expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
}

describe('per key', () => {
  it('counts down in the headers, refuses with 429 over the limit, and lets through again later', async () => {
    const { id, key } = await makeKey(['robots:read']);
    const get = () => request(system.url).get('/v1/robots').set('authorization', `Bearer ${key}`);
    await freshWindow();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await get();
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('5');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThanOrEqual(1);
      remaining.push(Number(res.headers['ratelimit-remaining']));
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await get().set('x-request-id', `rl-${process.pid}`);
    expectRateLimited(refused);
    expect(refused.headers['ratelimit-remaining']).toBe('0');

    const row = await eventually(async () => {
      const rows = await system.sql.query('select * from audit_log where request_id = $1', [
        `rl-${process.pid}`,
      ]);
      return rows.rows[0];
    }, 5000);
    expect(row).toMatchObject({ key_id: id, outcome: 'rate-limited', status: 429, action: 'robots.list' });

    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers['retry-after']) * 1000 + 100));
    expect((await get()).status).toBe(200);
  });

  it('a scope override raises the limit of keys holding that scope', async () => {
    const { key } = await makeKey(['modules:read']);
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await request(system.url).get('/v1/modules').set('x-api-key', key)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 429]);
  });

  it('a route override adds a budget of its own, even for admin', async () => {
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await system.api.delete('/v1/keys/00000000-0000-4000-8000-000000000000')).status);
    }
    expect(statuses).toEqual([404, 404, 429]);
    expect((await system.api.get('/v1/keys')).status).toBe(200);
  });
});

describe('per IP without a valid key', () => {
  it('refuses 429 after RATE_LIMIT_PER_IP unauthenticated requests', async () => {
    await freshWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await request(system.url).get('/v1/robots').set('x-api-key', 'guess')).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    // Every 429 so far is counted on /metrics (open, and not itself limited).
    const metrics = await request(system.url).get('/metrics');
    const line = metrics.text
      .split('\n')
      .find((l) => l.startsWith('rpa_rate_limit_rejections_total{reason="rate-limited"}'));
    expect(Number(line?.split(' ').pop())).toBeGreaterThanOrEqual(3);
  });
});

describe('concurrently unfinished robots per key', () => {
  it('refuses a third robot with concurrency-limit until one finishes', async () => {
    const { id, key } = await makeKey(['robots:write']);
    const create = () =>
      request(system.url)
        .post('/v1/robots')
        .set('authorization', `Bearer ${key}`)
        .send({ type: 'demo', input: { text: 'x' } });
    const first = await create();
    const second = await create();
    expect([first.status, second.status]).toEqual([201, 201]);
    const third = await create();
    expectRateLimited(third, 'concurrency-limit');
    expect(third.body).toMatchObject({ limit: 2, running: 2 });
    const rows = await system.sql.query(
      'select count(*)::int as n from robots where created_by_key_id = $1',
      [id],
    );
    expect(rows.rows[0].n).toBe(2);

    // The first robot ends (cancelled through the API). Editing its row by hand was flaky: the
    // waiting workflow rewrites its status when it records that it is still pending.
    const cancel = await request(system.url)
      .post(`/v1/robots/${first.body.robotId}/cancel`)
      .set('authorization', `Bearer ${key}`);
    expect(cancel.status).toBe(202);
    await eventually(async () => {
      const row = await system.sql.query('select status from robots where robot_id = $1', [
        first.body.robotId,
      ]);
      return row.rows[0]?.status === 'cancelled' ? true : undefined;
    });
    const fourth = await create();
    expect({ status: fourth.status, body: fourth.body }).toMatchObject({ status: 201 });
  });
});

describe('when Redis is away', () => {
  it('falls back to in-memory limiting, logs it and counts it, and goes back to Redis', async () => {
    const redis = new TestRedisServer(testRedisPort());
    await redis.start();
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const { app, security } = system.appFor({ config: { REDIS_URL: redis.url }, logger });
    const get = () => request(app).get('/v1/robots').set('x-api-key', key);
    const { key } = await makeKey(['robots:read']);
    try {
      await freshWindow();
      expect((await get()).status).toBe(200);
      expect(security.limiter.stats.fallbackDecisions).toBe(0);

      await redis.kill();
      await freshWindow();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get()).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]); // still limited: never fails open
      expect(security.limiter.stats).toEqual({ fallbackDecisions: 6, fallbackSwitches: 1 });
      expect(lines.filter((line) => line.includes('limiting in memory'))).toHaveLength(1);

      await redis.start();
      await eventually(async () => {
        await freshWindow();
        return (await get()).status === 200 && lines.some((line) => line.includes('Redis is back'))
          ? true
          : undefined;
      }, 20_000);
    } finally {
      await security.close();
      await redis.kill();
    }
  }, 60_000);
});
