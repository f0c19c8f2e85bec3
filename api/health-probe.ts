import type { Client } from '@temporalio/client';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import type { DatabaseHandle } from '../db/client';
import type { ModuleStores } from '../db/module-stores';
import { ShutdownDrain } from './shutdown-drain';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  kind?: string;
  error?: string;
}

export interface ModulesHealth extends ComponentHealth {
  /** Active modules with at least one live replica: robots can run only if this is above 0. */
  live: number;
}

export interface HealthReport {
  /** ok: all up; degraded: the cache or every module is down (robots wait, reads go to Postgres);
   * unavailable: Postgres or Temporal is down. */
  status: 'ok' | 'degraded' | 'unavailable';
  checkedAt: string;
  components: Record<'database' | 'cache' | 'temporal', ComponentHealth> & { modules: ModulesHealth };
  /** The process is shutting down (SIGTERM): unavailable whatever its components say. */
  draining?: true;
}

async function probe(
  check: () => Promise<unknown>,
  timeoutMs: number,
  kind?: string,
): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round(performance.now() - started), ...(kind ? { kind } : {}) };
  } catch (err) {
    return {
      status: 'down',
      latencyMs: Math.round(performance.now() - started),
      ...(kind ? { kind } : {}),
      error: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthDeps {
  database: DatabaseHandle;
  cache: StatusCache;
  temporal: Client;
  moduleStores: ModuleStores;
}

async function liveModules(moduleStores: ModuleStores): Promise<number> {
  const [rows, live] = await Promise.all([
    moduleStores.modules.list(),
    moduleStores.state.snapshot(Date.now()),
  ]);
  return rows.filter((row) => row.isActive && (live.get(row.moduleName)?.liveReplicas ?? 0) > 0).length;
}

/** Checks every dependency at once, each bounded, so health never hangs on one of them. */
export async function checkHealth(deps: HealthDeps, timeoutMs = 1000): Promise<HealthReport> {
  let live = 0;
  const [database, cache, temporal, modulesProbe] = await Promise.all([
    probe(() => deps.database.ping(), timeoutMs, deps.database.kind),
    probe(() => deps.cache.ping(), timeoutMs, deps.cache.kind),
    probe(() => deps.temporal.workflowService.getSystemInfo({}), timeoutMs),
    probe(async () => {
      live = await liveModules(deps.moduleStores);
      if (live === 0) throw new Error('no module has a live replica: robots wait as pending');
    }, timeoutMs),
  ]);
  const modules = { ...modulesProbe, live };
  const components = { database, cache, temporal, modules };
  const status =
    database.status === 'down' || temporal.status === 'down'
      ? 'unavailable'
      : cache.status === 'down' || modules.status === 'down'
        ? 'degraded'
        : 'ok';
  return { status, checkedAt: new Date().toISOString(), components };
}

/**
 * Serves the last report and refreshes it in the background once it is older than `maxAgeMs`, so a
 * health request costs no I/O (O(1)) and a slow dependency never slows the endpoint; only the very
 * first request waits for a probe. No timer: without requests nothing is probed.
 */
export class HealthProbe {
  private report: HealthReport | null = null;
  private checkedAt = 0;
  private refreshing: Promise<HealthReport> | null = null;
  /** The last report as a draining process answers it (kept, so its serialised form is too). */
  private drained: { of: HealthReport; report: HealthReport } | null = null;

  constructor(
    private readonly check: () => Promise<HealthReport>,
    private readonly maxAgeMs: number,
    /** Started on SIGTERM (startApi's close): from then on every report is `unavailable`. */
    readonly drain: ShutdownDrain = new ShutdownDrain(),
  ) {}

  private refresh(): Promise<HealthReport> {
    this.refreshing ??= this.check()
      .then((report) => {
        this.report = report;
        this.checkedAt = Date.now();
        return report;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  async current(): Promise<HealthReport> {
    if (this.drain.active) return this.draining(this.report ?? (await this.refresh()));
    if (!this.report) return this.refresh();
    if (Date.now() - this.checkedAt > this.maxAgeMs) void this.refresh().catch(() => undefined);
    return this.report;
  }

  private draining(report: HealthReport): HealthReport {
    if (this.drained?.of !== report)
      this.drained = { of: report, report: { ...report, status: 'unavailable', draining: true } };
    return this.drained.report;
  }
}
