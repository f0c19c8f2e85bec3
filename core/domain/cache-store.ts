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
