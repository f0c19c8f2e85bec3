import type Redis from 'ioredis';

/** A named map of JSON values shared by all processes: a Redis hash, or rows of `shared_hashes`. */
export interface JsonHash<T> {
  get(field: string): Promise<T | undefined>;
  all(): Promise<Map<string, T>>;
  set(field: string, value: T): Promise<void>;
  delete(field: string): Promise<void>;
}

/**
 * Parsing dominates a hot read (routing reads every module's entries per robot), so the last parse
 * of each field is kept and reused while Redis returns the same text. Callers get shared values and
 * must not mutate them.
 */
export class ParseMemo<T> {
  private readonly parsed = new Map<string, { raw: string; value: T }>();

  parse(field: string, raw: string): T {
    const hit = this.parsed.get(field);
    if (hit && hit.raw === raw) return hit.value;
    const value = JSON.parse(raw) as T;
    this.parsed.set(field, { raw, value });
    return value;
  }

  /** Forgets fields that no longer exist, so the memo never outgrows the hash. */
  retain(fields: Iterable<string>): void {
    const keep = new Set(fields);
    for (const field of this.parsed.keys()) if (!keep.has(field)) this.parsed.delete(field);
  }
}

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
