import Redis, { type RedisOptions } from 'ioredis';
import type { Config } from '../../config';
import { parseSentinelUrl, type SentinelTarget } from '../../domain/redis-url';

// The one place Redis clients are made. Each user names a profile: what it needs from its
// connection (key prefix, queueing, retries, timeouts) is decided here, timeouts from config.

export type RedisConfig = Pick<
  Config,
  | 'REDIS_URL'
  | 'REDIS_KEY_PREFIX'
  | 'REDIS_CONNECT_TIMEOUT_MS'
  | 'REDIS_ROUTING_TIMEOUT_MS'
  | 'REDIS_EVENTS_TIMEOUT_MS'
  | 'CACHE_COMMAND_TIMEOUT_MS'
  | 'RATE_LIMIT_REDIS_TIMEOUT_MS'
>;

/**
 * - `routing`: module routing state shared by every process (replicas, circuits, performance, the
 *   routing table), under REDIS_KEY_PREFIX. Commands queue until the first connection only: after
 *   that, while Redis is away, they fail at once so routing degrades to the registry instead of
 *   every robot waiting out timeouts.
 * - `cache`: the cache (its manager adds the prefix). Fails fast rather than queueing: callers fall
 *   back to Postgres, and a queue would replay stale writes after an outage.
 * - `rateLimit`: the sliding windows. No queue and no retries: a request must not wait for Redis,
 *   the in-memory fallback decides at once.
 * - `hotReads`: the API's fast path for `GET /v1/robots/:id` (api/hot-path): the rate-limit windows
 *   and the cached status in one pipeline, so no key prefix of its own (the keys carry theirs). Like
 *   `rateLimit`: no queue, no retries, the shorter of the two timeouts; a failure hands the request
 *   to the ordinary path, which has the fallbacks.
 * - `eventsPublisher` / `eventsSubscriber`: live robot events (pub/sub). A subscribing connection
 *   can do nothing else, so it is a client of its own. `eventsPublisher` also publishes API key
 *   revocations (fail fast: a revoke is durable in Postgres whatever happens to its message).
 * - `keyRevocations`: an API replica listening for API key revocations (ADR 0053; pub/sub, its own
 *   connection). Reconnects forever; the key cache's TTL bounds a revoke while it is away.
 * - `routingChanges`: a control worker's routing snapshot listening to the routing change feed
 *   (pub/sub, its own connection). Reconnects forever; the snapshot distrusts itself while down.
 */
export type RedisProfile =
  | 'routing'
  | 'cache'
  | 'rateLimit'
  | 'hotReads'
  | 'eventsPublisher'
  | 'eventsSubscriber'
  | 'routingChanges'
  | 'keyRevocations';

/** Where the rate limiter's windows live (the `rateLimit` profile's key prefix). */
export const rateLimitKeyPrefix = (config: Pick<RedisConfig, 'REDIS_KEY_PREFIX'>) =>
  `${config.REDIS_KEY_PREFIX}ratelimit:`;

const profiles: Record<RedisProfile, (config: RedisConfig) => RedisOptions & { queueUntilReady?: true }> = {
  routing: (config) => ({
    keyPrefix: config.REDIS_KEY_PREFIX,
    maxRetriesPerRequest: 2,
    commandTimeout: config.REDIS_ROUTING_TIMEOUT_MS,
    queueUntilReady: true,
  }),
  cache: (config) => ({
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: config.CACHE_COMMAND_TIMEOUT_MS,
  }),
  rateLimit: (config) => ({
    keyPrefix: rateLimitKeyPrefix(config),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.RATE_LIMIT_REDIS_TIMEOUT_MS,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  }),
  hotReads: (config) => ({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: Math.min(config.RATE_LIMIT_REDIS_TIMEOUT_MS, config.CACHE_COMMAND_TIMEOUT_MS),
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  }),
  eventsPublisher: (config) => ({
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: config.REDIS_EVENTS_TIMEOUT_MS,
  }),
  eventsSubscriber: () => ({ maxRetriesPerRequest: 1 }),
  // Named, so an operator (or a test) can find a control worker's subscription in CLIENT LIST.
  routingChanges: (config) => ({
    maxRetriesPerRequest: 1,
    connectionName: `${config.REDIS_KEY_PREFIX}routing-changes`.replace(/[^\w.:-]/g, '_'),
  }),
  keyRevocations: (config) => ({
    maxRetriesPerRequest: 1,
    connectionName: `${config.REDIS_KEY_PREFIX}key-revocations`.replace(/[^\w.:-]/g, '_'),
  }),
};

/** ioredis options for a Sentinel target (merged under each profile's own options). */
function sentinelOptions(target: SentinelTarget): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
  };
}

/** Makes a new client of a profile; each caller owns (and disconnects) what it asked for. */
export type RedisConnector = (profile: RedisProfile) => Redis;

/** Null without REDIS_URL: callers then use their in-process or Postgres twin. */
export function redisConnector(config: RedisConfig): RedisConnector | null {
  const url = config.REDIS_URL;
  if (!url) return null;
  const sentinel = parseSentinelUrl(url);
  return (profile) => {
    const { queueUntilReady, ...options } = profiles[profile](config);
    const base = { connectTimeout: config.REDIS_CONNECT_TIMEOUT_MS, ...options };
    // A Sentinel URL: ioredis asks the sentinels for the master, and again after a failover.
    const client = sentinel ? new Redis({ ...sentinelOptions(sentinel), ...base }) : new Redis(url, base);
    client.on('error', () => {
      // Reported through failing commands (each caller has its fallback); ioredis reconnects itself.
    });
    if (queueUntilReady) {
      client.once('ready', () => {
        client.options.enableOfflineQueue = false;
      });
    }
    return client;
  };
}
