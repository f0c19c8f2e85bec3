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

  /**
   * Write-through. From the progress activity, `from` is the record's run and sequence: the write
   * lands only if no newer record of the run (or, once the run ended, of a later run) is cached, so
   * a late write (a retried write-behind, another control worker) never moves the status back
   * (ADR 0053). Without `from` (the API's own changes, e.g. a retry claimed) the write always lands.
   * Returns whether it was stored.
   */
  async set(view: RobotView, from?: { run: string; sequence: number }): Promise<boolean> {
    const key = robotStatusKey(view.robotId);
    if (!from) return this.manager.set(key, view, this.ttl(view));
    return this.manager.setIfNewer(
      key,
      view,
      { ...from, final: isTerminal(view.status), keepSeconds: this.terminalTtlSeconds },
      this.ttl(view),
    );
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
