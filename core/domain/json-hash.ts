/**
 * A named map of JSON values shared by all processes: a Redis hash (core/adapters/redis/json-hash.redis.ts),
 * or rows of `shared_hashes` (db/json-hash.postgres.ts).
 */
export interface JsonHash<T> {
  get(field: string): Promise<T | undefined>;
  all(): Promise<Map<string, T>>;
  set(field: string, value: T): Promise<void>;
  delete(field: string): Promise<void>;
}
