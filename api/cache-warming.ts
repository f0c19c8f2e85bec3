import type { Logger } from '../core/observability/logger';
import type { RoutingTable } from '../db/routing-table';
import type { ModulesService } from './modules.service';
import type { RobotsService } from './robots.service';

export interface WarmResult {
  robots: number;
  moduleViews: number;
  routes: number;
  ms: number;
}

/**
 * Fills the caches a fresh API process would otherwise miss on its first requests: active robots'
 * status, the module list, and the routing table. Best effort: a failure is logged, never fatal.
 */
export async function warmCaches(deps: {
  robots: RobotsService;
  modules: ModulesService;
  routingTable: RoutingTable;
  activeRobotLimit: number;
  logger: Logger;
}): Promise<WarmResult> {
  const started = performance.now();
  const attempt = async <T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      deps.logger.warn({ err }, `cache warming: ${what} failed`);
      return fallback;
    }
  };
  const [robots, moduleViews, routes] = await Promise.all([
    attempt('active robots', () => deps.robots.warmCache(deps.activeRobotLimit), 0),
    attempt('module list', async () => (await deps.modules.list()).length, 0),
    attempt('routing table', async () => (await deps.routingTable.routes(Date.now())).length, 0),
  ]);
  const result = { robots, moduleViews, routes, ms: Math.round(performance.now() - started) };
  deps.logger.info(result, 'caches warmed');
  return result;
}
