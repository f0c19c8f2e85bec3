import type { Logger } from '../../core/observability/logger';
import { rateLimitFallbacks } from '../../core/observability/metrics';
import type { Decision, WindowStore } from './sliding-window';
import { MemoryWindowStore } from './window-store.memory';

export interface RateLimitStats {
  /** Decisions made by the in-memory store because Redis failed. */
  fallbackDecisions: number;
  /** Times the limiter switched from Redis to memory. */
  fallbackSwitches: number;
}

/**
 * Redis first; when a Redis call fails, the in-memory store decides instead (limits then hold per
 * API process rather than across replicas). Never fails open: every request is counted somewhere.
 * The switch is logged once per outage at `warn`, the way back at `info`, and both are counted.
 */
export class FallbackWindowStore implements WindowStore {
  private readonly memory = new MemoryWindowStore();
  private degraded = false;
  readonly stats: RateLimitStats = { fallbackDecisions: 0, fallbackSwitches: 0 };

  constructor(
    private readonly primary: WindowStore | null,
    private readonly logger: Logger,
  ) {}

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<Decision> {
    if (this.primary) {
      try {
        const decision = await this.primary.hit(key, limit, windowMs, now);
        if (this.degraded) {
          this.degraded = false;
          this.logger.info('rate limiter: Redis is back; limits are shared across replicas again');
        }
        return decision;
      } catch (err) {
        if (!this.degraded) {
          this.degraded = true;
          this.stats.fallbackSwitches += 1;
          this.logger.warn(
            { err },
            'rate limiter: Redis failed; limiting in memory (per process) until it is back',
          );
        }
        this.stats.fallbackDecisions += 1;
        rateLimitFallbacks.inc();
      }
    }
    return this.memory.hit(key, limit, windowMs, now);
  }
}
