import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { RobotView } from '../../core/domain/robot';
import { TestRedisServer, testRedisPort } from '../support/redis-server';
import { rpa, runProcess } from '../support/rpa-cli';
import { TEST_REDIS_URL } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// ADR 0053: a revoked API key is refused by every API replica at once, not after
// API_KEY_CACHE_SECONDS: the revoke is published on Redis and each replica's key cache forgets the
// key's row. The cache time here is 300 s, so only the message can make a replica refuse in time.

const CACHE_SECONDS = 300;
/** Well below the cache time: what "at once" must mean on a busy machine. */
const BOUND_MS = 5_000;

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false, env: { API_KEY_CACHE_SECONDS: String(CACHE_SECONDS) } });
  await system.security.revocations.listening();
});

afterAll(async () => {
  await system?.close();
});

const as = (key: string) => ({ Authorization: `Bearer ${key}` });

async function makeKey(): Promise<{ id: string; key: string }> {
  const res = await system.api.post('/v1/keys').send({ name: 'revocable', scopes: ['robots:read'] });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key };
}

/** A finished robot's status in the cache: what the fast path answers without Express. */
async function cachedRobot(): Promise<string> {
  const now = new Date().toISOString();
  const view: RobotView = {
    robotId: randomUUID(),
    type: 'demo',
    typeVersion: 1,
    status: 'completed',
    priority: 'normal',
    moduleName: 'm1',
    input: {},
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
  expect(await system.cache.set(view)).toBe(true);
  return view.robotId;
}

/** A second API replica on the same database and Redis, its key cache its own. */
async function secondReplica(overrides: Parameters<TestSystem['appFor']>[0] = {}) {
  const replica = system.appFor(overrides);
  await replica.security.revocations.listening();
  return replica;
}

/** Waits until `get` answers 401 "revoked"; fails if that takes longer than the bound. */
async function refusedWithin(get: () => request.Test, boundMs = BOUND_MS): Promise<number> {
  const started = Date.now();
  const res = await eventually(
    async () => {
      const answer = await get();
      return answer.status === 401 ? answer : undefined;
    },
    boundMs,
    50,
  );
  expect(res.body.reason).toBe('revoked');
  return Date.now() - started;
}

describe('revoking an API key on one replica', () => {
  it('makes another replica refuse it at once, though its cached row would live 300 s', async () => {
    const replica = await secondReplica();
    const { id, key } = await makeKey();
    // Both replicas have the key's row cached now.
    expect((await request(replica.app).get('/v1/robots').set(as(key))).status).toBe(200);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);

    expect((await system.api.delete(`/v1/keys/${id}`)).status).toBe(200);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(401);
    expect(await refusedWithin(() => request(replica.app).get('/v1/robots').set(as(key)))).toBeLessThan(
      BOUND_MS,
    );
  });

  it('reaches the fast path of the other replica (GET /v1/robots/:id from the cache)', async () => {
    const replica = await secondReplica();
    const { id, key } = await makeKey();
    const robotId = await cachedRobot();
    // Answered by the front door, from the cache, with the key's row cached by that replica.
    const fast = await request(system.url).get(`/v1/robots/${robotId}`).set(as(key));
    expect(fast.status).toBe(200);
    expect(fast.headers['x-robot-source']).toBe('cache');

    expect((await request(replica.app).delete(`/v1/keys/${id}`).set(as(system.adminKey))).status).toBe(200);
    await refusedWithin(() => request(system.url).get(`/v1/robots/${robotId}`).set(as(key)));
  });

  it('reaches every replica when revoked with `rpa keys revoke`', async () => {
    const replica = await secondReplica();
    const { id, key } = await makeKey();
    expect((await request(replica.app).get('/v1/robots').set(as(key))).status).toBe(200);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);

    const cli = await run(['keys', 'revoke', id], {
      DATABASE_URL: system.config.DATABASE_URL ?? '',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: system.config.REDIS_KEY_PREFIX,
    });
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    await refusedWithin(() => request(replica.app).get('/v1/robots').set(as(key)));
    await refusedWithin(() => request(system.url).get('/v1/robots').set(as(key)));
  }, 60_000);
});

describe('revocations while Redis is away', () => {
  const server = new TestRedisServer(testRedisPort());

  beforeAll(async () => {
    await server.start();
  });

  afterAll(async () => {
    await server.kill();
  });

  it('still revoke (the cache time bounds it), and a replica checks its keys again once Redis is back', async () => {
    // Two replicas whose Redis (rate limits, revocations) is this test's own server.
    const onServer = { config: { REDIS_URL: server.url } };
    const [revoker, replica] = [await secondReplica(onServer), await secondReplica(onServer)];
    const { id, key } = await makeKey();
    expect((await request(replica.app).get('/v1/robots').set(as(key))).status).toBe(200);

    await server.kill();
    // The revoke is in Postgres: it succeeds, and the revoking replica refuses the key at once.
    const revoked = await request(revoker.app).delete(`/v1/keys/${id}`).set(as(system.adminKey));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expect((await request(revoker.app).get('/v1/robots').set(as(key))).status).toBe(401);
    // The message was lost: the other replica still has the key's row, for up to the cache time.
    expect((await request(replica.app).get('/v1/robots').set(as(key))).status).toBe(200);

    await server.start();
    // Subscribed again, the replica reads every cached row again at its next use.
    await refusedWithin(() => request(replica.app).get('/v1/robots').set(as(key)), 20_000);
  }, 60_000);
});

function run(args: string[], env: Record<string, string>) {
  return runProcess(process.execPath, [rpa, ...args], { env: { LOG_LEVEL: 'silent', ...env } });
}
