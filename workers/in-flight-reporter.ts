/**
 * A replica's count of running steps, and its write-behind to the shared module state that routing
 * reads. A step never waits for the write: a change is written at once when the last write is at
 * least `intervalMs` old, else once at the end of that interval with the count as it is then; a
 * count equal to the last one written is not written again. Under load that is at most one write
 * per interval, however many steps start and end in it (issue 17: they were two awaited Redis round
 * trips per step).
 *
 * One write at a time, so the shared count is never set back by an older write landing late. A
 * failed write is not retried: the next change or the replica heartbeat, which carries the count
 * too (ADR 0035), writes it again.
 */
export class InFlightReporter {
  private count = 0;
  private written: number | null = null;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly write: (count: number) => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  /** The replica's own count, which the heartbeat writes as is. */
  running(): number {
    return this.count;
  }

  started(): void {
    this.count += 1;
    this.schedule();
  }

  ended(): void {
    this.count -= 1;
    this.schedule();
  }

  /** Stops writing (before the replica is removed, so no late write recreates its counter). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.writing;
  }

  private schedule(): void {
    // A write in progress schedules the next when it ends; a pending timer will see this change.
    if (this.closed || this.timer || this.writing || this.count === this.written) return;
    const wait = this.lastWriteAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
    this.timer.unref(); // a count due soon must not keep a stopping process alive
  }

  private flush(): void {
    if (this.closed || this.count === this.written) return;
    const count = this.count;
    this.lastWriteAt = Date.now();
    this.writing = this.write(count).then(
      () => {
        this.written = count;
        this.writing = null;
        this.schedule();
      },
      () => {
        this.written = null;
        this.writing = null;
      },
    );
  }
}
