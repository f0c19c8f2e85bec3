/**
 * Where an ordered write stands: the run that wrote it and its place in that run. Runs cannot be
 * ordered among themselves (a retry is a new run whose sequence starts again), so a run's records are
 * compared by sequence, and a run that wrote a final record is known to have ended.
 */
export interface WriteOrder {
  run: string;
  sequence: number;
  /** The run's last record (a final state): no record of this run may replace another run's after it. */
  final: boolean;
  /** How long the order is remembered, at least the value's TTL (a late write can come after the value expired). */
  keepSeconds: number;
}

/** Where cached text lives: Redis in production and tests, a process-local map without REDIS_URL. */
export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Stores only when the key is absent; returns whether it stored. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Stores unless a newer write is on record (atomically): refused when the last ordered write of the
   * same run had a higher sequence, or when this run ended and another run has written since. Returns
   * whether it stored. The order is kept beside the value (`orderKeyOf`), so the value keeps its shape;
   * invalidating the value leaves the order, which only ever refuses older writes.
   */
  setIfNewer(key: string, value: string, ttlSeconds: number, order: WriteOrder): Promise<boolean>;
  /** Remaining lifetime in seconds; -2 when the key does not exist (as Redis TTL answers). */
  ttl(key: string): Promise<number>;
  /** Deletes every key matching a glob pattern (`*`, `?`) and returns how many went. */
  deleteMatching(pattern: string): Promise<number>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Where `setIfNewer` keeps a value's order: in the value's Redis Cluster slot, as the script's two
 * keys must be. A key without a hash tag is hashed whole, so `{key}` hashes alike; a key with one
 * (a REDIS_KEY_PREFIX such as `{rpa}:`) keeps it. A key with a `}` but no tag has no such name (it
 * then works on one Redis only). The value's own key, which readers GET, is unchanged.
 */
export function orderKeyOf(key: string): string {
  const open = key.indexOf('{');
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1;
  if (close > open + 1 || key.includes('}')) return `${key}:order`;
  return `{${key}}:order`;
}

/** The rule of `setIfNewer`, for stores that are not Redis (the Lua script is its twin). */
export function isNewerWrite(
  stored: { run: string; sequence: number; ended: string | null } | null,
  order: WriteOrder,
): boolean {
  if (!stored) return true;
  if (stored.run === order.run) return order.sequence >= stored.sequence;
  return stored.ended !== order.run;
}
