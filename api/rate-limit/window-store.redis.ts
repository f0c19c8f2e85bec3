import type Redis from 'ioredis';
import { type Decision, decide, type WindowStore, windowIndex } from './sliding-window';

// One round trip per request: read both windows, count this request if it fits, set the expiry.
// The two keys share a hash tag, so the script also runs on Redis Cluster.
export const SLIDING_WINDOW_SCRIPT = `
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

export type SlidingWindowReply = [number, number, number];

/** The script's keys and arguments for one hit of `key` (keys without the client's key prefix). */
export function slidingWindowArgs(
  key: string,
  limit: number,
  windowMs: number,
  now: number,
): [string, string, string, number, number] {
  const index = windowIndex(now, windowMs);
  const elapsed = (now - index * windowMs) / windowMs;
  const tag = `{${key}}`;
  return [
    `${tag}:${windowMs}:${index}`,
    `${tag}:${windowMs}:${index - 1}`,
    elapsed.toFixed(6),
    limit,
    windowMs * 2,
  ];
}

export function decisionOf(
  reply: SlidingWindowReply,
  limit: number,
  now: number,
  windowMs: number,
): Decision {
  const [allowed, current, previous] = reply;
  return decide({ allowed: allowed === 1, current, previous }, limit, now, windowMs);
}

type SlidingRedis = Redis & {
  slidingWindow(...args: [string, string, string, number, number]): Promise<SlidingWindowReply>;
};

export class RedisWindowStore implements WindowStore {
  private readonly redis: SlidingRedis;

  /**
   * `redis`: a client of the `rateLimit` profile (core/adapters/redis/redis.client.ts): no queue, no
   * retries, a short timeout.
   */
  constructor(redis: Redis) {
    this.redis = redis as SlidingRedis;
    this.redis.defineCommand('slidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_SCRIPT });
  }

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<Decision> {
    const reply = await this.redis.slidingWindow(...slidingWindowArgs(key, limit, windowMs, now));
    return decisionOf(reply, limit, now, windowMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
