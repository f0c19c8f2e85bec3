import type Redis from 'ioredis';
import type { JsonHash } from '../../domain/json-hash';
import { ParseMemo } from './parse-memo';

/** A JsonHash in one Redis hash; its Postgres twin is db/json-hash.postgres.ts. */
export class RedisJsonHash<T> implements JsonHash<T> {
  private readonly memo = new ParseMemo<T>();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  async get(field: string): Promise<T | undefined> {
    const raw = await this.redis.hget(this.key, field);
    return raw === null ? undefined : this.memo.parse(field, raw);
  }

  async all(): Promise<Map<string, T>> {
    const raw = await this.redis.hgetall(this.key);
    this.memo.retain(Object.keys(raw));
    return new Map(Object.entries(raw).map(([field, value]) => [field, this.memo.parse(field, value)]));
  }

  async set(field: string, value: T): Promise<void> {
    await this.redis.hset(this.key, field, JSON.stringify(value));
  }

  async delete(field: string): Promise<void> {
    await this.redis.hdel(this.key, field);
  }
}
