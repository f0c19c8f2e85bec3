import type { CircuitState, ModuleHealth } from './load-balancer';

/** Share of failed steps above which a module is reported degraded. */
export const DEGRADED_ERROR_RATE = 0.5;

/** A module's health from what the health monitor sees: live replicas, circuit, recent errors. */
export function moduleHealth(facts: {
  liveReplicas: number;
  circuit: CircuitState;
  errorRate: number;
}): ModuleHealth {
  if (facts.liveReplicas <= 0) return 'unhealthy';
  if (facts.circuit !== 'closed' || facts.errorRate >= DEGRADED_ERROR_RATE) return 'degraded';
  return 'healthy';
}
