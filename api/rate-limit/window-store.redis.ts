import type Redis from 'ioredis';
import { type Decision, decide, type WindowStore, windowIndex } from './sliding-window';

// One round trip per request: read both windows, count this request if it fits, set the expiry.
// The two keys share a hash tag, so the script also runs on Redis Cluster.
const SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local elapsed = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if previous * (1 - elapsed) + current + 1 > limit then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, current, previous}
`;

type SlidingRedis = Redis & {
  slidingWindow(
    currentKey: string,
    previousKey: string,
    elapsed: string,
    limit: number,
    ttlMs: number,
  ): Promise<[number, number, number]>;
};

export class RedisWindowStore implements WindowStore {
  private readonly redis: SlidingRedis;

  /**
   * `redis`: a client of the `rateLimit` profile (core/adapters/redis/redis.client.ts): no queue, no
   * retries, a short timeout.
   */
  constructor(redis: Redis) {
    this.redis = redis as SlidingRedis;
    this.redis.defineCommand('slidingWindow', { numberOfKeys: 2, lua: SCRIPT });
  }

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<Decision> {
    const index = windowIndex(now, windowMs);
    const elapsed = (now - index * windowMs) / windowMs;
    const tag = `{${key}}`;
    const [allowed, current, previous] = await this.redis.slidingWindow(
      `${tag}:${windowMs}:${index}`,
      `${tag}:${windowMs}:${index - 1}`,
      elapsed.toFixed(6),
      limit,
      windowMs * 2,
    );
    return decide({ allowed: allowed === 1, current, previous }, limit, now, windowMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
