import { isTerminal, type RobotView } from '../../domain/robot';
import { type CacheManager, cacheKey } from './cache-manager';

export const robotStatusKey = (robotId: string) => cacheKey<RobotView>('robotStatus', robotId);

/**
 * Hot robot status on the cache manager. "Smart TTL": a live robot's entry is short-lived (progress
 * writes refresh it), a finished robot's entry lives long since it can no longer change.
 */
export class StatusCache {
  constructor(
    readonly manager: CacheManager,
    private readonly terminalTtlSeconds: number,
  ) {}

  get kind(): CacheManager['kind'] {
    return this.manager.kind;
  }

  get(robotId: string): Promise<RobotView | null> {
    return this.manager.get(robotStatusKey(robotId));
  }

  private ttl(view: RobotView): number {
    return isTerminal(view.status) ? this.terminalTtlSeconds : this.manager.ttlFor('robotStatus');
  }

  /** Write-through from the progress activity: the newest state always wins. */
  async set(view: RobotView): Promise<void> {
    await this.manager.set(robotStatusKey(view.robotId), view, this.ttl(view));
  }

  /**
   * From a read of Postgres (a miss, or warming): stored only if absent, so a view read before a
   * worker's newer write can never replace it; the worker's plain SET overwrites a stale fill.
   */
  async fill(view: RobotView): Promise<boolean> {
    // A process-local cache (no Redis) never sees the workers' writes, which happen in other
    // processes: a live robot cached there would go stale. Only a finished one is safe.
    if (this.kind === 'memory' && !isTerminal(view.status)) return false;
    return this.manager.fill(robotStatusKey(view.robotId), view, this.ttl(view));
  }

  ping(): Promise<boolean> {
    return this.manager.ping();
  }

  close(): Promise<void> {
    return this.manager.close();
  }
}
