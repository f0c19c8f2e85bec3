import type Redis from 'ioredis';

/** A named map of JSON values shared by all processes: a Redis hash, or rows of `shared_hashes`. */
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
