import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import type { CacheStore, WriteOrder } from '../../domain/cache-store';
import { cacheCircuitOpen, cacheRequests, cacheWrites } from '../../observability/metrics';

/** The kinds of data the cache holds; each has its own TTL from config. */
export const CACHE_FAMILIES = ['robotStatus', 'moduleHealth', 'robotType'] as const;
export type CacheFamily = (typeof CACHE_FAMILIES)[number];

/** A key that carries the type of the value stored under it, so get/set cannot mix them up. */
export interface CacheKey<T> {
  readonly family: CacheFamily;
  readonly id: string;
  /** Type only: never set. */
  readonly valueType?: T;
}

export function cacheKey<T>(family: CacheFamily, id: string): CacheKey<T> {
  return { family, id };
}

export interface CacheManagerOptions {
  store: CacheStore;
  /** Namespace in a shared Redis (REDIS_KEY_PREFIX). */
  prefix: string;
  ttlSeconds: Record<CacheFamily, number>;
  /** Consecutive store failures that open the circuit, and how long it stays open. */
  circuitThreshold: number;
  circuitHalfOpenAfterMs: number;
}

export type CacheReadResult = 'hit' | 'miss' | 'error' | 'bypass';

/**
 * Typed, TTL-per-family cache over Redis (or memory). A circuit breaker around the store makes an
 * unreachable Redis cost nothing per request once it is known to be down: reads count as `bypass`
 * and go to Postgres/Temporal, writes are skipped. Concurrent misses of one key share one load
 * (single flight), so a hot key expiring does not send a stampede to Postgres.
 */
export class CacheManager {
  private readonly breaker;
  private readonly loading = new Map<string, Promise<unknown>>();

  constructor(private readonly options: CacheManagerOptions) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.circuitHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.circuitThreshold),
    });
    this.breaker.onStateChange((state) => cacheCircuitOpen.set(state === CircuitState.Open ? 1 : 0));
  }

  get kind(): CacheStore['kind'] {
    return this.options.store.kind;
  }

  get circuitOpen(): boolean {
    return this.breaker.state === CircuitState.Open;
  }

  /** The store key: `<prefix>cache:<family>:<id>`. */
  storeKey(key: CacheKey<unknown>): string {
    return `${this.options.prefix}cache:${key.family}:${key.id}`;
  }

  ttlFor(family: CacheFamily): number {
    return this.options.ttlSeconds[family];
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.execute(fn);
  }

  /** Never throws: a broken cache reads as a miss, reported in the result and the counters. */
  async read<T>(key: CacheKey<T>): Promise<{ value: T | null; result: CacheReadResult }> {
    let result: CacheReadResult;
    let value: T | null = null;
    try {
      const raw = await this.run(() => this.options.store.get(this.storeKey(key)));
      value = raw === null ? null : (JSON.parse(raw) as T);
      result = value === null ? 'miss' : 'hit';
    } catch (err) {
      result = err instanceof BrokenCircuitError ? 'bypass' : 'error';
    }
    cacheRequests.inc({ family: key.family, result });
    return { value, result };
  }

  async get<T>(key: CacheKey<T>): Promise<T | null> {
    return (await this.read(key)).value;
  }

  /** Never throws; returns whether the value was stored. `ttlSeconds` overrides the family's TTL. */
  async set<T>(key: CacheKey<T>, value: T, ttlSeconds = this.ttlFor(key.family)): Promise<boolean> {
    return this.write(key.family, 'set', () =>
      this.options.store.set(this.storeKey(key), JSON.stringify(value), ttlSeconds),
    );
  }

  /**
   * Stores unless a newer ordered write is on record (`CacheStore.setIfNewer`): a late writer (a
   * retried write, another worker) cannot move the value back. Never throws; returns whether stored.
   * A refusal is counted as result `stale`.
   */
  async setIfNewer<T>(
    key: CacheKey<T>,
    value: T,
    order: WriteOrder,
    ttlSeconds = this.ttlFor(key.family),
  ): Promise<boolean> {
    let stored = false;
    const written = await this.write(key.family, 'set', async () => {
      stored = await this.options.store.setIfNewer(
        this.storeKey(key),
        JSON.stringify(value),
        ttlSeconds,
        order,
      );
      return stored ? 'ok' : 'stale';
    });
    return written && stored;
  }

  /**
   * Stores only if nothing is cached under the key. Readers filling the cache from Postgres use it so
   * that they can never overwrite a newer value a writer (write-through) put there meanwhile.
   */
  async fill<T>(key: CacheKey<T>, value: T, ttlSeconds = this.ttlFor(key.family)): Promise<boolean> {
    let stored = false;
    await this.write(key.family, 'fill', async () => {
      stored = await this.options.store.setIfAbsent(this.storeKey(key), JSON.stringify(value), ttlSeconds);
    });
    return stored;
  }

  /**
   * Cached value, or the loader's (then cached). Concurrent misses of one key in this process
   * wait for the same load. `cacheIf` keeps some loaded values out of the cache.
   */
  async getOrLoad<T>(
    key: CacheKey<T>,
    load: () => Promise<T>,
    cacheIf: (value: T) => boolean = () => true,
  ): Promise<T> {
    const cached = await this.get(key);
    if (cached !== null) return cached;
    const id = this.storeKey(key);
    const inFlight = this.loading.get(id) as Promise<T> | undefined;
    if (inFlight !== undefined) return inFlight;
    const loading = (async () => {
      try {
        const value = await load();
        if (value !== null && value !== undefined && cacheIf(value)) await this.set(key, value);
        return value;
      } finally {
        this.loading.delete(id);
      }
    })();
    this.loading.set(id, loading);
    return loading;
  }

  /** Deletes the family's keys whose id matches a glob (`*` for all); SCAN-based, never KEYS. */
  async invalidate(family: CacheFamily, idPattern = '*'): Promise<number> {
    let deleted = 0;
    await this.write(family, 'invalidate', async () => {
      deleted = await this.options.store.deleteMatching(this.storeKey(cacheKey(family, idPattern)));
    });
    return deleted;
  }

  private async write(
    family: CacheFamily,
    op: 'set' | 'fill' | 'invalidate',
    /** May answer 'stale': the store kept a newer value (counted, not a failure). */
    fn: () => Promise<unknown>,
  ) {
    try {
      const result = (await this.run(fn)) === 'stale' ? 'stale' : 'ok';
      cacheWrites.inc({ family, op, result });
      return true;
    } catch (err) {
      cacheWrites.inc({ family, op, result: err instanceof BrokenCircuitError ? 'bypass' : 'error' });
      return false;
    }
  }

  async remainingTtl(key: CacheKey<unknown>): Promise<number> {
    return this.options.store.ttl(this.storeKey(key));
  }

  ping(): Promise<boolean> {
    return this.options.store.ping();
  }

  close(): Promise<void> {
    return this.options.store.close();
  }
}
