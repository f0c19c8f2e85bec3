import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { createCacheManager } from '../../core/adapters/redis/cache.builder';
import { type CacheManager, cacheKey } from '../../core/adapters/redis/cache-manager';
import { robotStatusKey, StatusCache } from '../../core/adapters/redis/status-cache';
import { parseConfig } from '../../core/config';
import type { RobotView } from '../../core/domain/robot';
import { cacheRequests } from '../../core/observability/metrics';
import { TestRedisServer, testRedisPort } from '../support/redis-server';
import { TEST_REDIS_URL } from '../support/test-env';

const prefix = `rpa-cache-test-${randomBytes(3).toString('hex')}:`;
const config = parseConfig({
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  CACHE_STATUS_TTL_SECONDS: '30',
  CACHE_TERMINAL_STATUS_TTL_SECONDS: '7200',
  CACHE_MODULE_HEALTH_TTL_SECONDS: '4',
  CACHE_ROBOT_TYPE_TTL_SECONDS: '900',
});
let manager: CacheManager;
let status: StatusCache;
let redis: Redis;

beforeAll(async () => {
  manager = createCacheManager(config);
  status = new StatusCache(manager, config.CACHE_TERMINAL_STATUS_TTL_SECONDS);
  redis = new Redis(TEST_REDIS_URL);
  // The cache fails fast and skips a write while its client is still connecting (best effort by
  // design); these tests are about TTLs and reads, so they start once the client is connected.
  const deadline = Date.now() + 10_000;
  while (!(await manager.ping().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('the cache never connected to Redis');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await manager.close();
});

function view(robotId: string, status: RobotView['status']): RobotView {
  const at = '2026-11-25T00:00:00.000Z';
  return {
    robotId,
    type: 'demo',
    typeVersion: 1,
    status,
    priority: 'normal',
    moduleName: null,
    input: {},
    output: null,
    progress: null,
    routing: [],
    sla: null,
    error: null,
    processingTimeMs: null,
    retryCount: 0,
    completenessScore: null,
    createdAt: at,
    updatedAt: at,
  };
}

async function counter(family: string, result: string): Promise<number> {
  const metric = await cacheRequests.get();
  return metric.values.find((v) => v.labels.family === family && v.labels.result === result)?.value ?? 0;
}

describe('cache manager on a real Redis', () => {
  it('keys every entry under the deployment prefix and its family', () => {
    expect(manager.storeKey(robotStatusKey('r-1'))).toBe(`${prefix}cache:robotStatus:r-1`);
  });

  it('applies the TTL of each data family, long for finished robots', async () => {
    await status.set(view('live-1', 'running'));
    await status.set(view('done-1', 'completed'));
    await manager.set(cacheKey<string[]>('moduleHealth', 'list:*'), ['a']);
    await manager.set(cacheKey<{ v: number }>('robotType', 'invoice@1'), { v: 1 });

    const ttl = (key: string) => redis.ttl(`${prefix}cache:${key}`);
    expect(await ttl('robotStatus:live-1')).toBeGreaterThan(25);
    expect(await ttl('robotStatus:live-1')).toBeLessThanOrEqual(30);
    expect(await ttl('robotStatus:done-1')).toBeGreaterThan(7000);
    expect(await ttl('moduleHealth:list:*')).toBeLessThanOrEqual(4);
    expect(await ttl('moduleHealth:list:*')).toBeGreaterThan(0);
    expect(await ttl('robotType:invoice@1')).toBeGreaterThan(850);
    expect(await ttl('robotType:invoice@1')).toBeLessThanOrEqual(900);
  });

  it('reads back typed values and counts hits and misses', async () => {
    const hits = await counter('robotStatus', 'hit');
    const misses = await counter('robotStatus', 'miss');
    expect((await status.get('live-1'))?.status).toBe('running');
    expect(await status.get('never-cached')).toBeNull();
    expect(await counter('robotStatus', 'hit')).toBe(hits + 1);
    expect(await counter('robotStatus', 'miss')).toBe(misses + 1);
  });

  it('fill never replaces a newer write-through value', async () => {
    await status.set(view('race-1', 'completed'));
    expect(await status.fill(view('race-1', 'running'))).toBe(false);
    expect((await status.get('race-1'))?.status).toBe('completed');
    expect(await status.fill(view('race-2', 'running'))).toBe(true);
    expect((await status.get('race-2'))?.status).toBe('running');
  });

  it('invalidates by pattern exactly the matching keys (SCAN)', async () => {
    const modules = (id: string) => cacheKey<number>('moduleHealth', id);
    await manager.set(modules('list:*'), 1);
    await manager.set(modules('list:demo'), 2);
    await manager.set(modules('other:demo'), 3);
    await manager.set(cacheKey<number>('robotType', 'list:demo'), 4);
    // Another deployment's key with the same family and id must survive.
    await redis.set(`other-${prefix}cache:moduleHealth:list:demo`, 'x', 'EX', 60);

    expect(await manager.invalidate('moduleHealth', 'list:*')).toBe(2);
    expect(await manager.get(modules('list:*'))).toBeNull();
    expect(await manager.get(modules('list:demo'))).toBeNull();
    expect(await manager.get(modules('other:demo'))).toBe(3);
    expect(await manager.get(cacheKey<number>('robotType', 'list:demo'))).toBe(4);
    expect(await redis.get(`other-${prefix}cache:moduleHealth:list:demo`)).toBe('x');
    await redis.del(`other-${prefix}cache:moduleHealth:list:demo`);
  });

  it('lets concurrent misses of one key share a single load (no stampede)', async () => {
    let loads = 0;
    const key = cacheKey<{ n: number }>('robotType', 'hot@1');
    const load = async () => {
      loads += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
      return { n: 42 };
    };
    const values = await Promise.all(Array.from({ length: 25 }, () => manager.getOrLoad(key, load)));
    expect(loads).toBe(1);
    expect(values.every((value) => value.n === 42)).toBe(true);
    expect(await manager.getOrLoad(key, load)).toEqual({ n: 42 });
    expect(loads).toBe(1);
  });
});

describe('cache manager when Redis goes away', () => {
  const server = new TestRedisServer(testRedisPort());
  let outage: CacheManager;

  beforeAll(async () => {
    await server.start();
    outage = createCacheManager({
      ...config,
      REDIS_URL: server.url,
      CACHE_CIRCUIT_FAILURE_THRESHOLD: 2,
      CACHE_CIRCUIT_HALF_OPEN_SECONDS: 1,
    });
  });

  afterAll(async () => {
    await outage.close();
    await server.kill();
  });

  it('reads as a miss, then skips Redis while its circuit is open, and recovers', async () => {
    const key = cacheKey<number>('robotType', 'x@1');
    expect(await outage.set(key, 7)).toBe(true);
    expect(await outage.get(key)).toBe(7);

    await server.kill();
    const first = await outage.read(key);
    const second = await outage.read(key);
    expect([first.result, second.result]).toEqual(['error', 'error']);
    expect(outage.circuitOpen).toBe(true);
    const bypassed = await outage.read(key);
    expect(bypassed).toEqual({ value: null, result: 'bypass' });
    expect(await outage.set(key, 8)).toBe(false);
    // Loads still answer, from the source of truth.
    expect(await outage.getOrLoad(key, async () => 9)).toBe(9);

    await server.start();
    const recovered = async (): Promise<boolean> => {
      for (let i = 0; i < 100; i++) {
        if (await outage.set(key, 10)) return true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return false;
    };
    expect(await recovered()).toBe(true);
    expect(outage.circuitOpen).toBe(false);
    expect(await outage.get(key)).toBe(10);
  }, 30_000);
});
