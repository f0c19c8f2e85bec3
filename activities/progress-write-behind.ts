import type { Logger } from '../core/observability/logger';

/** What the write-behind needs of a record: whose it is and where it stands in its run. */
export interface Ordered {
  robotId: string;
  executionId: string;
  sequence: number;
}

interface Lane<R> {
  /** The newest record not yet being written; a newer one replaces it (each record is a whole snapshot). */
  pending: R | null;
  /** The newest record handed in, to refuse an older one (a local activity retried late). */
  newest: Ordered;
  /** Resolves when the lane has nothing left to write. */
  drained: Promise<void>;
  /** Set by `settle`: stop retrying, a synchronous write of a newer record follows. */
  superseded: boolean;
}

const isNewer = (a: Ordered, b: Ordered) => a.executionId !== b.executionId || a.sequence > b.sequence;

/**
 * A live robot's progress records written behind its workflow (ADR 0046): the local activity hands
 * the record over and returns, so Postgres and Redis round trips are off the workflow task. One lane
 * per robot writes one record at a time, newest last; records that queue up while one is written
 * collapse into the newest. A failed write is retried until it lands or a newer record replaces it.
 * A record that must be durable before the workflow goes on (a final one, a parked robot…) first
 * `settle`s the robot's lane, so nothing written behind can land after it from this process; the
 * writes themselves refuse to overwrite a newer or a finished state (db/*.repository.ts) for the
 * writes of another process.
 */
export class ProgressWriteBehind<R extends Ordered> {
  private readonly lanes = new Map<string, Lane<R>>();

  constructor(
    private readonly write: (record: R) => Promise<void>,
    private readonly logger: Logger,
    private readonly retryMs = { first: 200, max: 5_000 },
  ) {}

  /** Queues the record; an older record of the same run than one already queued is dropped. */
  submit(record: R): void {
    const lane = this.lanes.get(record.robotId);
    if (lane) {
      if (!isNewer(record, lane.newest)) return;
      lane.newest = record;
      lane.pending = record;
      lane.superseded = false;
      return;
    }
    const created: Lane<R> = {
      pending: record,
      newest: record,
      drained: Promise.resolve(),
      superseded: false,
    };
    created.drained = this.drain(record.robotId, created);
    this.lanes.set(record.robotId, created);
  }

  /** Drops what is queued for the robot and waits for the write under way, if any. */
  async settle(robotId: string): Promise<void> {
    const lane = this.lanes.get(robotId);
    if (!lane) return;
    lane.pending = null;
    lane.superseded = true;
    await lane.drained;
  }

  /** Records queued or being written, over all robots (tests, shutdown). */
  get size(): number {
    return this.lanes.size;
  }

  private async drain(robotId: string, lane: Lane<R>): Promise<void> {
    // Start after the caller returned: the local activity completes first.
    await Promise.resolve();
    let wait = this.retryMs.first;
    while (lane.pending) {
      const record = lane.pending;
      lane.pending = null;
      try {
        await this.write(record);
        wait = this.retryMs.first;
      } catch (err) {
        if (lane.superseded) break;
        this.logger.warn({ err, robotId }, 'progress written behind failed; retrying');
        lane.pending ??= record;
        // Unref'd: a retry never holds a stopping worker open; the final record is written anyway.
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
        wait = Math.min(wait * 2, this.retryMs.max);
      }
    }
    this.lanes.delete(robotId);
  }
}
