import { readFileSync, statSync } from 'node:fs';
import Redis from 'ioredis';
import type { Client as PgClient } from 'pg';

// What the soak samples every few seconds: each process's resident memory (VmRSS from /proc), the
// database's size and the row counts of its main tables, and Redis's memory and key count.

export interface ResourceSample {
  /** Milliseconds since the load began. */
  atMs: number;
  phase: 'load' | 'drain';
  /** Resident memory in bytes by process label; absent when the process was gone. */
  rss: Record<string, number>;
  databaseBytes: number;
  rows: Record<string, number>;
  redisBytes: number;
  redisKeys: number;
  temporalFileBytes: number;
  completed: number;
}

export const COUNTED_TABLES = ['robots', 'robot_execute', 'audit_log', 'sent_emails'];

export function rssBytes(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // the process is gone
  }
}

function fileBytes(files: string[]): number {
  return files.reduce((sum, file) => sum + (statSync(file, { throwIfNoEntry: false })?.size ?? 0), 0);
}

export interface KeyShape {
  keys: number;
  /** Keys with an expiry, and the longest time left on one. */
  expiring: number;
  maxTtlSeconds: number;
}

export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  private readonly redis: Redis;
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> = Promise.resolve();
  phase: ResourceSample['phase'] = 'load';

  constructor(
    private readonly sql: PgClient,
    redisUrl: string,
    private readonly pids: () => Record<string, number | undefined>,
    private readonly temporalFile: string,
    private readonly startedAt: number,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  }

  async sample(): Promise<ResourceSample> {
    const rss: Record<string, number> = {};
    for (const [label, pid] of Object.entries(this.pids())) {
      const bytes = rssBytes(pid);
      if (bytes !== undefined) rss[label] = bytes;
    }
    const counts = COUNTED_TABLES.map((table) => `(select count(*) from ${table}) as ${table}`).join(', ');
    const { rows } = await this.sql.query<Record<string, string>>(
      `select pg_database_size(current_database()) as bytes,
              (select count(*) from robots where status = 'completed') as completed, ${counts}`,
    );
    const row = rows[0] ?? {};
    const info = await this.redis.info('memory');
    const sample: ResourceSample = {
      atMs: Date.now() - this.startedAt,
      phase: this.phase,
      rss,
      databaseBytes: Number(row.bytes),
      rows: Object.fromEntries(COUNTED_TABLES.map((table) => [table, Number(row[table])])),
      redisBytes: Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN),
      redisKeys: await this.redis.dbsize(),
      temporalFileBytes: fileBytes([this.temporalFile, `${this.temporalFile}-wal`]),
      completed: Number(row.completed),
    };
    this.samples.push(sample);
    return sample;
  }

  /** Samples every `intervalMs` (never two at once), calling `onSample` with each. */
  start(intervalMs: number, onSample: (sample: ResourceSample) => void): void {
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() =>
        this.sample().then(onSample, (err: unknown) => {
          console.error(`sample failed: ${err instanceof Error ? err.message : String(err)}`);
        }),
      );
    }, intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sampling;
  }

  /** Bytes of each table with its indexes and TOAST. */
  async tableBytes(): Promise<Record<string, number>> {
    const { rows } = await this.sql.query<{ name: string; bytes: string }>(
      `select relname as name, pg_total_relation_size(oid) as bytes from pg_class
        where relkind = 'r' and relnamespace = 'public'::regnamespace`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes)]));
  }

  /**
   * Redis keys grouped by shape (ids replaced by `<id>`, the run's prefix by `<prefix>`), with how
   * many of each carry an expiry: what the memory growth is made of.
   */
  async redisKeyShapes(prefix: string): Promise<Record<string, KeyShape>> {
    const shapes: Record<string, KeyShape> = {};
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      const ttls = await Promise.all(keys.map((key) => this.redis.pttl(key)));
      keys.forEach((key, i) => {
        const shape = key
          .replace(prefix, '<prefix>')
          .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<id>')
          .replace(/:\d+$/, ':<n>');
        const entry = shapes[shape] ?? { keys: 0, expiring: 0, maxTtlSeconds: 0 };
        entry.keys += 1;
        const ttl = ttls[i] ?? -1;
        if (ttl > 0) {
          entry.expiring += 1;
          entry.maxTtlSeconds = Math.max(entry.maxTtlSeconds, Math.ceil(ttl / 1000));
        }
        shapes[shape] = entry;
      });
    } while (cursor !== '0');
    return shapes;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.redis.disconnect();
  }
}
