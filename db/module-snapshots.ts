import type { CircuitState, ModuleSnapshot } from '../core/domain/load-balancer';
import { moduleHealth } from '../core/domain/module-health';
import type { ModuleLiveState } from '../core/domain/module-state';
import { type PerformanceStats, performanceScore } from '../core/domain/performance';
import type { ModuleStores } from './module-stores';
import type { ModuleRoute } from './modules.repository';

// Read by the selection activity (routing) and by the API's module views (GET /v1/modules): both
// must see a module the same way, so the reading lives here, below both.

/**
 * Gathers the facts routing needs: registry (cached), live replicas, circuits, performance. When
 * the live state cannot be read (Redis down), routing degrades instead of stopping: modules the
 * health monitor last saw healthy count as one live replica of their registered capacity.
 */
export async function moduleSnapshots(
  moduleStores: ModuleStores,
  targetLatencyMs: number,
  now: number,
): Promise<ModuleSnapshot[] & { degraded?: boolean }> {
  const routes = await moduleStores.routingTable.routes(now);
  const facts = await Promise.all([
    moduleStores.state.snapshot(now),
    moduleStores.circuits.states(now),
    moduleStores.performance.all(),
  ]).catch(() => null);
  if (!facts) {
    const fallback: ModuleSnapshot[] & { degraded?: boolean } = routes.map((route) => {
      const live = route.healthStatus !== 'unhealthy' ? 1 : 0;
      return {
        name: route.name,
        isActive: route.isActive,
        draining: route.draining,
        healthStatus: live > 0 ? route.healthStatus : 'unhealthy',
        liveReplicas: live,
        capacity: live * route.capacity,
        inFlight: 0,
        performanceScore: route.performanceScore,
        errorRate: 0,
        circuit: 'closed',
        supportedRobotTypes: route.supportedRobotTypes,
        supportedSteps: route.supportedSteps,
      };
    });
    fallback.degraded = true;
    return fallback;
  }
  const [live, circuits, performance] = facts;
  return routes.map((route) =>
    moduleSnapshotOf(
      route,
      live.get(route.name),
      circuits.get(route.name) ?? 'closed',
      performance.get(route.name),
      targetLatencyMs,
    ),
  );
}

/** One module as routing sees it, from its registry row and live facts (also the routing snapshot's). */
export function moduleSnapshotOf(
  route: ModuleRoute,
  state: ModuleLiveState | undefined,
  circuit: CircuitState,
  stats: PerformanceStats | undefined,
  targetLatencyMs: number,
): ModuleSnapshot {
  const errorRate = stats && stats.samples > 0 ? 1 - stats.successEwma : 0;
  return {
    name: route.name,
    isActive: route.isActive,
    draining: route.draining,
    // From live facts, not the monitor's stored summary: a replica that just started is routable
    // at once, and one that just died is not, without waiting for the next monitor run.
    healthStatus: moduleHealth({ liveReplicas: state?.liveReplicas ?? 0, circuit, errorRate }),
    liveReplicas: state?.liveReplicas ?? 0,
    capacity: state?.capacity ?? 0,
    inFlight: state?.inFlight ?? 0,
    // Live EWMA when there are samples; the stored score (performance schedule) otherwise.
    performanceScore:
      stats && stats.samples > 0 ? performanceScore(stats, targetLatencyMs) : route.performanceScore,
    errorRate,
    circuit,
    supportedRobotTypes: route.supportedRobotTypes,
    supportedSteps: route.supportedSteps,
  };
}
