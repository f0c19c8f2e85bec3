import { type Decision, decide, estimate, type WindowStore, windowIndex } from './sliding-window';

/** Per-process counts: the fallback while Redis is away, and the store when there is no Redis. */
export class MemoryWindowStore implements WindowStore {
  private readonly counts = new Map<string, number>();
  private lastSweep = 0;

  async hit(key: string, limit: number, windowMs: number, now: number): Promise<Decision> {
    const index = windowIndex(now, windowMs);
    this.sweep(index, windowMs);
    const currentKey = `${key}|${windowMs}|${index}`;
    const current = this.counts.get(currentKey) ?? 0;
    const previous = this.counts.get(`${key}|${windowMs}|${index - 1}`) ?? 0;
    const allowed = estimate(previous, current, now, windowMs) + 1 <= limit;
    if (allowed) this.counts.set(currentKey, current + 1);
    return decide({ allowed, current: allowed ? current + 1 : current, previous }, limit, now, windowMs);
  }

  /** Drops counts older than the previous window, at most once per window. */
  private sweep(index: number, windowMs: number): void {
    if (index === this.lastSweep) return;
    this.lastSweep = index;
    for (const key of this.counts.keys()) {
      const [, size, at] = key.split('|');
      if (Number(size) === windowMs && Number(at) < index - 1) this.counts.delete(key);
    }
  }
}
