import type { LoadBalancerWeights } from '../core/load-balancer';
import { type ModuleSnapshot, selectModule } from '../core/load-balancer';
import { moduleSelections, selectionDuration } from '../core/metrics';
import { moduleHealth } from '../core/module-health';
import { performanceScore } from '../core/performance';
import type { StoredDecision } from '../core/robot';
import type { ModuleServices } from '../db/module-services';

export interface SelectionDeps {
  services: ModuleServices;
  weights: LoadBalancerWeights;
  targetLatencyMs: number;
}

export interface SelectionRequest {
  robotType: string;
  steps: string[];
  exclude?: string[];
}

export interface ModuleChoice {
  moduleName: string | null;
  decision: StoredDecision;
}

const STORED_CANDIDATES = 10;

/**
 * Gathers the facts routing needs: registry (cached), live replicas, circuits, performance. When
 * the live state cannot be read (Redis down), routing degrades instead of stopping: modules the
 * health monitor last saw healthy count as one live replica of their registered capacity.
 */
export async function moduleSnapshots(
  services: ModuleServices,
  targetLatencyMs: number,
  now: number,
): Promise<ModuleSnapshot[] & { degraded?: boolean }> {
  const routes = await services.routingTable.routes(now);
  const facts = await Promise.all([
    services.state.snapshot(now),
    services.circuits.states(now),
    services.performance.all(),
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
  return routes.map((route) => {
    const state = live.get(route.name);
    const stats = performance.get(route.name);
    const circuit = circuits.get(route.name) ?? 'closed';
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
  });
}

export function createSelectionActivities({ services, weights, targetLatencyMs }: SelectionDeps) {
  return {
    /**
     * Scores every registered module for a robot and picks the best (core/load-balancer.ts).
     * Read-only, so safe to retry; the decision is returned whole so the workflow can store it.
     */
    async selectModule(request: SelectionRequest): Promise<ModuleChoice> {
      const stop = selectionDuration.startTimer();
      const now = Date.now();
      const exclude = request.exclude ?? [];
      const snapshots = await moduleSnapshots(services, targetLatencyMs, now);
      const decision = selectModule(
        snapshots,
        { robotType: request.robotType, steps: request.steps, exclude },
        weights,
      );
      if (snapshots.degraded)
        decision.reason = `live module state unavailable, routed by the registry: ${decision.reason}`;
      stop();
      moduleSelections.inc({
        result: decision.winner ? 'chosen' : 'none',
        failover: String(exclude.length > 0),
      });
      return {
        moduleName: decision.winner,
        decision: {
          ...decision,
          candidates: decision.candidates.slice(0, STORED_CANDIDATES),
          candidatesOmitted: Math.max(0, decision.candidates.length - STORED_CANDIDATES),
          decidedAt: new Date(now).toISOString(),
          exclude,
        },
      };
    },
  };
}
