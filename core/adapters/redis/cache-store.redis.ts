import type Redis from 'ioredis';

/** Where cached text lives: Redis in production and tests, a process-local map without REDIS_URL. */
export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Stores only when the key is absent; returns whether it stored. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Remaining lifetime in seconds; -2 when the key does not exist (as Redis TTL answers). */
  ttl(key: string): Promise<number>;
  /** Deletes every key matching a glob pattern (`*`, `?`) and returns how many went. */
  deleteMatching(pattern: string): Promise<number>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readyWait: Promise<void> | null = null;

  /** `redis`: a client of the `cache` profile (core/adapters/redis/redis.client.ts), which fails fast instead of queueing. */
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

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  async get(key: string): Promise<string | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlSeconds * 1000 });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if ((await this.get(key)) !== null) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }

  async ttl(key: string): Promise<number> {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt <= Date.now()) return -2;
    return Math.ceil((entry.expiresAt - Date.now()) / 1000);
  }

  async deleteMatching(pattern: string): Promise<number> {
    const matcher = globToRegExp(pattern);
    let deleted = 0;
    for (const key of [...this.entries.keys()]) {
      if (matcher.test(key)) deleted += Number(this.entries.delete(key));
    }
    return deleted;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
