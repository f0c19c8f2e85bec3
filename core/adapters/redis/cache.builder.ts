import type { Config } from '../../config';
import { CacheManager } from './cache-manager';
import { MemoryCacheStore } from './cache-store.memory';
import { RedisCacheStore } from './cache-store.redis';
import { type RedisConfig, redisConnector } from './redis.client';
import { StatusCache } from './status-cache';

type CacheConfig = RedisConfig &
  Pick<
    Config,
    | 'CACHE_STATUS_TTL_SECONDS'
    | 'CACHE_TERMINAL_STATUS_TTL_SECONDS'
    | 'CACHE_MODULE_HEALTH_TTL_SECONDS'
    | 'CACHE_ROBOT_TYPE_TTL_SECONDS'
    | 'CACHE_CIRCUIT_FAILURE_THRESHOLD'
    | 'CACHE_CIRCUIT_HALF_OPEN_SECONDS'
  >;

/** The process's cache: Redis when REDIS_URL is set, else a process-local map. */
export function createCacheManager(config: CacheConfig): CacheManager {
  const redis = redisConnector(config);
  return new CacheManager({
    store: redis
      ? new RedisCacheStore(redis('cache'), config.CACHE_COMMAND_TIMEOUT_MS)
      : new MemoryCacheStore(),
    prefix: config.REDIS_KEY_PREFIX,
    ttlSeconds: {
      robotStatus: config.CACHE_STATUS_TTL_SECONDS,
      moduleHealth: config.CACHE_MODULE_HEALTH_TTL_SECONDS,
      robotType: config.CACHE_ROBOT_TYPE_TTL_SECONDS,
    },
    circuitThreshold: config.CACHE_CIRCUIT_FAILURE_THRESHOLD,
    circuitHalfOpenAfterMs: config.CACHE_CIRCUIT_HALF_OPEN_SECONDS * 1000,
  });
}

export function createStatusCache(config: CacheConfig): StatusCache {
  return new StatusCache(createCacheManager(config), config.CACHE_TERMINAL_STATUS_TTL_SECONDS);
}
