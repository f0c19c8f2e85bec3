import { sql } from 'drizzle-orm';
import type { Database } from './client';

export interface PerformanceRow {
  /** The robot type or module name the row is about. */
  key: string;
  finished: number;
  completed: number;
  failed: number;
  cancelled: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  retries: number;
}

/**
 * Robots that finished in [from, to), grouped by robot type or by the module that ran them.
 * "Finished" is the robot's last update with a terminal status; latency is its processing time.
 */
export class ReportsRepository {
  constructor(private readonly readDb: Database) {}

  async performance(groupBy: 'type' | 'module', from: Date, to: Date): Promise<PerformanceRow[]> {
    const key = groupBy === 'type' ? sql`robot_type` : sql`coalesce(module_name, '(none)')`;
    const result = await this.readDb.execute(sql`
      select ${key} as key,
             count(*)::int as finished,
             count(*) filter (where status = 'completed')::int as completed,
             count(*) filter (where status = 'failed')::int as failed,
             count(*) filter (where status = 'cancelled')::int as cancelled,
             percentile_cont(0.5) within group (order by processing_time_ms) as p50,
             percentile_cont(0.95) within group (order by processing_time_ms) as p95,
             percentile_cont(0.99) within group (order by processing_time_ms) as p99,
             avg(processing_time_ms) as mean,
             coalesce(sum(retry_count), 0)::int as retries
        from robots
       where status in ('completed', 'failed', 'cancelled')
         and updated_at >= ${from.toISOString()} and updated_at < ${to.toISOString()}
       group by 1
       order by 2 desc, 1`);
    const rows = (result as unknown as { rows: Record<string, unknown>[] }).rows;
    const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
    return rows.map((row) => ({
      key: String(row.key),
      finished: Number(row.finished),
      completed: Number(row.completed),
      failed: Number(row.failed),
      cancelled: Number(row.cancelled),
      p50Ms: num(row.p50),
      p95Ms: num(row.p95),
      p99Ms: num(row.p99),
      meanMs: num(row.mean),
      retries: Number(row.retries),
    }));
  }
}
