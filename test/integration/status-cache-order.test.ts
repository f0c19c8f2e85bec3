import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createCacheManager } from '../../core/adapters/redis/cache.builder';
import type { CacheManager } from '../../core/adapters/redis/cache-manager';
import { robotStatusKey, StatusCache } from '../../core/adapters/redis/status-cache';
import { parseConfig } from '../../core/config';
import { orderKeyOf } from '../../core/domain/cache-store';
import type { RobotView } from '../../core/domain/robot';
import { cacheWrites } from '../../core/observability/metrics';
import { TEST_REDIS_URL } from '../support/test-env';

// ADR 0053: a progress record's status write to Redis lands only if no newer record is cached, in
// one Lua script (set-if-newer by the record's run and sequence), keeping the TTLs of ADR 0007.

const prefix = `rpa-order-test-${randomBytes(3).toString('hex')}:`;
const config = parseConfig({
  REDIS_URL: TEST_REDIS_URL,
  REDIS_KEY_PREFIX: prefix,
  CACHE_STATUS_TTL_SECONDS: '30',
  CACHE_TERMINAL_STATUS_TTL_SECONDS: '7200',
});
let manager: CacheManager;
let status: StatusCache;
let redis: Redis;

beforeAll(async () => {
  manager = createCacheManager(config);
  status = new StatusCache(manager, config.CACHE_TERMINAL_STATUS_TTL_SECONDS);
  redis = new Redis(TEST_REDIS_URL);
  // The cache skips a write while its client is still connecting (best effort by design).
  const deadline = Date.now() + 10_000;
  while (!(await manager.ping().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('the cache never connected to Redis');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  // The values, and their orders (`{<value key>}:order`).
  const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`{${prefix}*`))];
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await manager.close();
});

/** A robot's view as record `sequence` of a run writes it; the sequence shows in `currentStep`. */
function view(robotId: string, state: RobotView['status'], sequence: number): RobotView {
  const at = '2026-12-06T00:00:00.000Z';
  return {
    robotId,
    type: 'demo',
    typeVersion: 1,
    status: state,
    priority: 'normal',
    moduleName: 'm',
    input: {},
    output: null,
    progress: {
      robotId,
      robotType: 'demo',
      status: state,
      priority: 'normal',
      moduleName: 'm',
      currentStep: `step-${sequence}`,
      stepsCompleted: 0,
      stepsTotal: 3,
      percent: 0,
      steps: [],
      retryCount: 0,
      sequence,
    },
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

const write = (robotId: string, run: string, state: RobotView['status'], sequence: number) =>
  status.set(view(robotId, state, sequence), { run, sequence });

/** What the hot read path serves: the raw cached JSON (api/hot-path/status-read.redis.ts). */
async function cachedRaw(robotId: string): Promise<{ status: string; sequence: number | undefined } | null> {
  const raw = await redis.get(manager.storeKey(robotStatusKey(robotId)));
  if (raw === null) return null;
  const parsed = JSON.parse(raw) as RobotView;
  return { status: parsed.status, sequence: parsed.progress?.sequence };
}

async function staleWrites(): Promise<number> {
  const metric = await cacheWrites.get();
  return (
    metric.values.find(
      (v) => v.labels.family === 'robotStatus' && v.labels.op === 'set' && v.labels.result === 'stale',
    )?.value ?? 0
  );
}

describe('status cache writes of progress records (set-if-newer)', () => {
  it('keeps record N+1 when record N of the same run arrives after it', async () => {
    const robotId = randomUUID();
    const run = randomUUID();
    const stale = await staleWrites();
    expect(await write(robotId, run, 'running', 6)).toBe(true);
    expect(await write(robotId, run, 'running', 5)).toBe(false);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 6 });
    expect((await status.get(robotId))?.progress?.sequence).toBe(6);
    expect(await staleWrites()).toBe(stale + 1);
    // The same record again (a retried write) lands: it is no older.
    expect(await write(robotId, run, 'running', 6)).toBe(true);
  });

  it('ends with the newest of many concurrent writes, whatever order they land in', async () => {
    const robotId = randomUUID();
    const run = randomUUID();
    const sequences = Array.from({ length: 40 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    await Promise.all(sequences.map((sequence) => write(robotId, run, 'running', sequence)));
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 40 });
  });

  it('lets a final record win over older ones, and no older record of the run over it', async () => {
    const robotId = randomUUID();
    const run = randomUUID();
    await write(robotId, run, 'running', 3);
    expect(await write(robotId, run, 'completed', 4)).toBe(true);
    expect(await write(robotId, run, 'running', 3)).toBe(false);
    expect(await cachedRaw(robotId)).toEqual({ status: 'completed', sequence: 4 });
    // The finished robot's long TTL is kept; the order outlives the value.
    const key = manager.storeKey(robotStatusKey(robotId));
    expect(await redis.ttl(key)).toBeGreaterThan(7000);
    expect(await redis.ttl(orderKeyOf(key))).toBeGreaterThan(7000);
  });

  it('keeps a live robot on the short TTL', async () => {
    const robotId = randomUUID();
    await write(robotId, randomUUID(), 'running', 2);
    const ttl = await redis.ttl(manager.storeKey(robotStatusKey(robotId)));
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it('lets a new run (a retry) follow an ended one, and refuses the ended run afterwards', async () => {
    const robotId = randomUUID();
    const [first, second] = [randomUUID(), randomUUID()];
    await write(robotId, first, 'running', 5);
    await write(robotId, first, 'failed', 6);
    // The retry's run starts its sequence again.
    expect(await write(robotId, second, 'running', 1)).toBe(true);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 1 });
    // The first run's records, late: neither a running one nor its final one comes back.
    expect(await write(robotId, first, 'running', 5)).toBe(false);
    expect(await write(robotId, first, 'failed', 6)).toBe(false);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 1 });
    expect(await write(robotId, second, 'running', 2)).toBe(true);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 2 });
  });

  it('still lets the API write its own changes unordered, and the next record after them', async () => {
    const robotId = randomUUID();
    const run = randomUUID();
    await write(robotId, run, 'failed', 7);
    // A retry claimed by the API: no run, always lands.
    expect(await status.set({ ...view(robotId, 'queued', 0), progress: null })).toBe(true);
    expect((await cachedRaw(robotId))?.status).toBe('queued');
    expect(await write(robotId, randomUUID(), 'running', 1)).toBe(true);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 1 });
  });

  it('refuses an older record even after the value was evicted, leaving the miss to Postgres', async () => {
    const robotId = randomUUID();
    const run = randomUUID();
    await write(robotId, run, 'running', 4);
    await redis.del(manager.storeKey(robotStatusKey(robotId)));
    expect(await write(robotId, run, 'running', 3)).toBe(false);
    expect(await cachedRaw(robotId)).toBeNull();
    // A fill from Postgres is still possible, and the run's next record replaces it.
    expect(await status.fill(view(robotId, 'running', 4))).toBe(true);
    expect(await write(robotId, run, 'running', 5)).toBe(true);
    expect(await cachedRaw(robotId)).toEqual({ status: 'running', sequence: 5 });
  });
});
