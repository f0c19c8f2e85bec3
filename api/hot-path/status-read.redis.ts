import type { ChainableCommander, default as Redis } from 'ioredis';
import type { Bucket } from '../middleware/rate-limit';
import type { Decision } from '../rate-limit/sliding-window';
import {
  decisionOf,
  SLIDING_WINDOW_SCRIPT,
  type SlidingWindowReply,
  slidingWindowArgs,
} from '../rate-limit/window-store.redis';

type SlidingArgs = [string, string, string, number, number];
type PipelinedRedis = Redis & { slidingWindow(...args: SlidingArgs): Promise<SlidingWindowReply> };
type ScriptPipeline = ChainableCommander & { slidingWindow(...args: SlidingArgs): ChainableCommander };

export interface StatusRead {
  /** One per bucket, in order; null when the rate-limit commands failed (nothing known counted). */
  decisions: Decision[] | null;
  /** The cached JSON, null on a miss, undefined when the GET failed. */
  cached: string | null | undefined;
}

/**
 * The rate-limit windows of a request and the robot's cached status in one pipeline: one write to
 * the socket, one round trip, where the ordinary path makes one per bucket and one more for the
 * cache. The same script and keys as RedisWindowStore, so both paths count in the same windows.
 */
export class StatusReadPipeline {
  private readonly redis: PipelinedRedis;

  /** `redis`: a client of the `hotReads` profile; `rateLimitPrefix`: the `rateLimit` profile's key prefix. */
  constructor(
    redis: Redis,
    private readonly rateLimitPrefix: string,
  ) {
    this.redis = redis as PipelinedRedis;
    this.redis.defineCommand('slidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_SCRIPT });
  }

  /** Whether a pipeline can be sent now (a closed or reconnecting client would fail at once). */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async read(buckets: Bucket[], windowMs: number, now: number, cacheKey: string): Promise<StatusRead> {
    const pipeline = this.redis.pipeline() as ScriptPipeline;
    for (const bucket of buckets) {
      const [current, previous, ...args] = slidingWindowArgs(bucket.key, bucket.limit, windowMs, now);
      pipeline.slidingWindow(this.rateLimitPrefix + current, this.rateLimitPrefix + previous, ...args);
    }
    pipeline.get(cacheKey);
    const replies = (await pipeline.exec()) ?? [];
    const limits = replies.slice(0, buckets.length);
    const get = replies[buckets.length];
    const decisions = limits.every(([err]) => !err)
      ? limits.map(([, reply], i) =>
          decisionOf(reply as SlidingWindowReply, buckets[i]?.limit ?? 0, now, windowMs),
        )
      : null;
    const cached = get && !get[0] ? (get[1] as string | null) : undefined;
    return { decisions, cached };
  }

  close(): void {
    this.redis.disconnect();
  }
}
