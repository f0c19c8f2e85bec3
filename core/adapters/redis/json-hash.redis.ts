import type Redis from 'ioredis';
import type { JsonHash } from '../../domain/json-hash';
import { ParseMemo } from './parse-memo';
import type { RoutingChangeFeed } from './routing-changes.redis';

/**
 * A JsonHash in one Redis hash; its Postgres twin is db/json-hash.postgres.ts. With a feed, every
 * write is published on it in the same round trip (routing state that snapshots follow).
 */
export class RedisJsonHash<T> implements JsonHash<T> {
  private readonly memo = new ParseMemo<T>();

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly feed?: RoutingChangeFeed,
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
    const raw = JSON.stringify(value);
    if (!this.feed) {
      await this.redis.hset(this.key, field, raw);
      return;
    }
    await this.feed.add(this.redis.multi().hset(this.key, field, raw), this.key, field, raw).exec();
  }

  async delete(field: string): Promise<void> {
    if (!this.feed) {
      await this.redis.hdel(this.key, field);
      return;
    }
    await this.feed.add(this.redis.multi().hdel(this.key, field), this.key, field, null).exec();
  }
}
