import type Redis from 'ioredis';
import type { CacheStore } from '../../domain/cache-store';

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readyWait: Promise<void> | null = null;

  /** `redis`: a client of the `cache` profile (redis.client.ts), which fails fast instead of queueing. */
  constructor(
    private readonly redis: Redis,
    private readonly commandTimeoutMs: number,
  ) {}

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
