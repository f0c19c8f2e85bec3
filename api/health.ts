import type { Client } from '@temporalio/client';
import type { StatusCache } from '../core/status-cache';
import type { DatabaseHandle } from '../db/client';

export interface ComponentHealth {
  status: 'up' | 'down';
  latencyMs: number;
  kind?: string;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  components: Record<'database' | 'cache' | 'temporal', ComponentHealth>;
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

/** Checks every dependency at once, each bounded, so health never hangs on one of them. */
export async function checkHealth(
  deps: { database: DatabaseHandle; cache: StatusCache; temporal: Client },
  timeoutMs = 1000,
): Promise<HealthReport> {
  const [database, cache, temporal] = await Promise.all([
    probe(() => deps.database.ping(), timeoutMs, deps.database.kind),
    probe(() => deps.cache.ping(), timeoutMs, deps.cache.kind),
    probe(() => deps.temporal.workflowService.getSystemInfo({}), timeoutMs),
  ]);
  const components = { database, cache, temporal };
  const allUp = Object.values(components).every((component) => component.status === 'up');
  return { status: allUp ? 'ok' : 'degraded', components };
}
