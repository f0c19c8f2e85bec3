import { type CacheStore, isNewerWrite, orderKeyOf, type WriteOrder } from '../../domain/cache-store';

// The cache store without REDIS_URL: a process-local map (twin of cache-store.redis.ts).

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { value: string; expiresAt: number }>();
  private readonly orders = new Map<
    string,
    { run: string; sequence: number; ended: string | null; expiresAt: number }
  >();

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

  async setIfNewer(key: string, value: string, ttlSeconds: number, order: WriteOrder): Promise<boolean> {
    const orderKey = orderKeyOf(key);
    let stored = this.orders.get(orderKey) ?? null;
    if (stored && stored.expiresAt <= Date.now()) stored = null;
    if (!isNewerWrite(stored, order)) return false;
    await this.set(key, value, ttlSeconds);
    this.orders.set(orderKey, {
      run: order.run,
      sequence: order.sequence,
      ended: order.final ? order.run : (stored?.ended ?? null),
      expiresAt: Date.now() + Math.max(ttlSeconds, order.keepSeconds) * 1000,
    });
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
    for (const key of [...this.orders.keys()]) {
      if (matcher.test(key)) this.orders.delete(key);
    }
    return deleted;
  }

  async ping(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.orders.clear();
  }
}
