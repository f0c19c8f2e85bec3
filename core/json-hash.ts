import type Redis from 'ioredis';

/** A named map of JSON values shared by all processes (Redis hash), or by one process (memory). */
export interface JsonHash<T> {
  get(field: string): Promise<T | undefined>;
  all(): Promise<Map<string, T>>;
  set(field: string, value: T): Promise<void>;
  delete(field: string): Promise<void>;
}

export class RedisJsonHash<T> implements JsonHash<T> {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async get(field: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.key, field);
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async all(): Promise<Map<string, T>> {
    const raw = await this.redis.hgetall(this.key);
    return new Map(Object.entries(raw).map(([field, value]) => [field, JSON.parse(value) as T]));
  }

  async set(field: string, value: T): Promise<void> {
    await this.redis.hset(this.key, field, JSON.stringify(value));
  }

  async delete(field: string): Promise<void> {
    await this.redis.hdel(this.key, field);
  }
}

export class MemoryJsonHash<T> implements JsonHash<T> {
  private readonly values = new Map<string, string>();

  async get(field: string): Promise<T | undefined> {
    const raw = this.values.get(field);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async all(): Promise<Map<string, T>> {
    return new Map([...this.values].map(([field, raw]) => [field, JSON.parse(raw) as T]));
  }

  async set(field: string, value: T): Promise<void> {
    this.values.set(field, JSON.stringify(value));
  }

  async delete(field: string): Promise<void> {
    this.values.delete(field);
  }
}
