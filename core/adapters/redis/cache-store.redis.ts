import type Redis from 'ioredis';
import { type CacheStore, orderKeyOf, type WriteOrder } from '../../domain/cache-store';

/**
 * `setIfNewer` in one step, so two writers cannot both read the old order and then both write (the
 * rule is `isNewerWrite`'s). KEYS: the value, its order (a hash: run, seq, ended).
 * ARGV: value, TTL (s), run, sequence, final ('1'/'0'), how long the order is kept (s).
 * Returns 1 when stored, 0 when a newer write is on record.
 */
export const SET_IF_NEWER_SCRIPT = `
local run = ARGV[3]
local seq = tonumber(ARGV[4])
local order = redis.call('HMGET', KEYS[2], 'run', 'seq', 'ended')
if order[1] == run then
  if seq < tonumber(order[2]) then return 0 end
elseif order[3] == run then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[2], 'run', run, 'seq', ARGV[4], 'ended', run)
else
  redis.call('HSET', KEYS[2], 'run', run, 'seq', ARGV[4])
end
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
`;

type OrderedRedis = Redis & {
  setIfNewer(
    key: string,
    orderKey: string,
    value: string,
    ttlSeconds: number,
    run: string,
    sequence: number,
    final: '1' | '0',
    keepSeconds: number,
  ): Promise<0 | 1>;
};

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readyWait: Promise<void> | null = null;
  private readonly redis: OrderedRedis;

  /** `redis`: a client of the `cache` profile (redis.client.ts), which fails fast instead of queueing. */
  constructor(
    redis: Redis,
    private readonly commandTimeoutMs: number,
  ) {
    this.redis = redis as OrderedRedis;
    this.redis.defineCommand('setIfNewer', { numberOfKeys: 2, lua: SET_IF_NEWER_SCRIPT });
  }

  /**
   * Without an offline queue a command sent while (re)connecting fails at once; waiting up to the
   * command timeout for the connection keeps start-up from counting as an outage, while a real
   * outage still fails within that bound. (A queue would replay stale writes after an outage.)
   */
  private async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    this.readyWait ??= new Promise<void>((resolve) => {
      this.redis.once('ready', () => {
        this.readyWait = null;
        resolve();
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis not ready (${this.redis.status})`)),
        this.commandTimeoutMs,
      );
    });
    try {
      await Promise.race([this.readyWait, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async get(key: string): Promise<string | null> {
    await this.ready();
    return this.redis.get(key);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.ready();
    await this.redis.set(key, value, 'EX', ttlSeconds);
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    await this.ready();
    return (await this.redis.set(key, value, 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async setIfNewer(key: string, value: string, ttlSeconds: number, order: WriteOrder): Promise<boolean> {
    await this.ready();
    const stored = await this.redis.setIfNewer(
      key,
      orderKeyOf(key),
      value,
      ttlSeconds,
      order.run,
      order.sequence,
      order.final ? '1' : '0',
      Math.max(ttlSeconds, order.keepSeconds),
    );
    return stored === 1;
  }

  async ttl(key: string): Promise<number> {
    await this.ready();
    return this.redis.ttl(key);
  }

  /** SCAN in pages, never KEYS: a large keyspace must not block Redis for other clients. */
  async deleteMatching(pattern: string): Promise<number> {
    await this.ready();
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async ping(): Promise<boolean> {
    await this.ready();
    return (await this.redis.ping()) === 'PONG';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
