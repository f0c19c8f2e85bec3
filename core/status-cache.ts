import Redis from 'ioredis';
import type { RobotView } from './robot';

/** Hot robot status: Redis in production and tests, a process-local map when no REDIS_URL is set. */
export interface StatusCache {
  readonly kind: 'redis' | 'memory';
  get(robotId: string): Promise<RobotView | null>;
  set(view: RobotView): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export const statusKey = (robotId: string): string => `rpa:robot:${robotId}:status`;

export class RedisStatusCache implements StatusCache {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly ttlSeconds: number,
  ) {
    // Fail fast rather than queueing commands while Redis is away: callers fall back to Postgres.
    this.redis = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2000,
      commandTimeout: 1000,
    });
    this.redis.on('error', () => {
      // Reported through failed commands; ioredis reconnects on its own.
    });
  }

  async get(robotId: string): Promise<RobotView | null> {
    const raw = await this.redis.get(statusKey(robotId));
    return raw ? (JSON.parse(raw) as RobotView) : null;
  }

  async set(view: RobotView): Promise<void> {
    await this.redis.set(statusKey(view.robotId), JSON.stringify(view), 'EX', this.ttlSeconds);
  }

  async ping(): Promise<boolean> {
    return (await this.redis.ping()) === 'PONG';
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class MemoryStatusCache implements StatusCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly ttlSeconds: number) {}

  async get(robotId: string): Promise<RobotView | null> {
    const entry = this.entries.get(robotId);
    if (!entry) return null;
    if (entry.expiresAt < Date.now()) {
      this.entries.delete(robotId);
      return null;
    }
    return JSON.parse(entry.value) as RobotView;
  }

  async set(view: RobotView): Promise<void> {
    this.entries.set(view.robotId, {
      value: JSON.stringify(view),
      expiresAt: Date.now() + this.ttlSeconds * 1000,
    });
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}

export function createStatusCache(options: {
  redisUrl: string | undefined;
  ttlSeconds: number;
}): StatusCache {
  return options.redisUrl
    ? new RedisStatusCache(options.redisUrl, options.ttlSeconds)
    : new MemoryStatusCache(options.ttlSeconds);
}
