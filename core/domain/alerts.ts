/**
 * Alert rules with hysteresis: a rule fires after `fireAfter` consecutive evaluations beyond its
 * alert threshold and resolves only after `resolveAfter` consecutive evaluations back on the good
 * side of its target. Between the two it keeps its state, so a value hovering at the threshold
 * neither flaps nor spams.
 */
export interface AlertRule {
  name: string;
  severity: 'warning' | 'critical';
  /** `above`: bad when the value is high (latency); `below`: bad when it is low (hit ratio). */
  direction: 'above' | 'below';
  alertAt: number;
  resolveAt: number;
  description: string;
}

/** One measured value of a rule for one subject (an API instance, a module…); null: too little data. */
export interface Observation {
  rule: string;
  subject: string;
  value: number | null;
}

export interface AlertState {
  firing: boolean;
  breaches: number;
  recoveries: number;
}

export const INITIAL_ALERT_STATE: AlertState = { firing: false, breaches: 0, recoveries: 0 };

export function evaluate(
  rule: AlertRule,
  state: AlertState,
  value: number | null,
  counts: { fireAfter: number; resolveAfter: number },
): { state: AlertState; transition: 'fired' | 'resolved' | null } {
  if (value === null) return { state, transition: null };
  const breached = rule.direction === 'above' ? value > rule.alertAt : value < rule.alertAt;
  const recovered = rule.direction === 'above' ? value < rule.resolveAt : value > rule.resolveAt;
  const breaches = breached ? state.breaches + 1 : 0;
  const recoveries = recovered ? state.recoveries + 1 : 0;
  if (!state.firing && breaches >= counts.fireAfter) {
    return { state: { firing: true, breaches, recoveries: 0 }, transition: 'fired' };
  }
  if (state.firing && recoveries >= counts.resolveAfter) {
    return { state: { firing: false, breaches: 0, recoveries }, transition: 'resolved' };
  }
  return { state: { firing: state.firing, breaches, recoveries }, transition: null };
}

/** The thresholds the default rules read: the `ALERT_*` / `TARGET_*` settings of core/config.ts. */
export type AlertThresholds = Record<
  | 'ALERT_LATENCY_P99_MS'
  | 'TARGET_LATENCY_P99_MS'
  | 'ALERT_ERROR_RATE'
  | 'TARGET_ERROR_RATE'
  | 'ALERT_CACHE_HIT_RATIO'
  | 'TARGET_CACHE_HIT_RATIO'
  | 'ALERT_DB_POOL_USAGE'
  | 'TARGET_DB_POOL_USAGE',
  number
>;

/** The seed's thresholds as default rules, overridable through config. */
export function defaultAlertRules(config: AlertThresholds): AlertRule[] {
  return [
    {
      name: 'api_latency_p99',
      severity: 'warning',
      direction: 'above',
      alertAt: config.ALERT_LATENCY_P99_MS,
      resolveAt: config.TARGET_LATENCY_P99_MS,
      description: 'API p99 response time (ms) over the evaluation window',
    },
    {
      name: 'api_error_rate',
      severity: 'critical',
      direction: 'above',
      alertAt: config.ALERT_ERROR_RATE,
      resolveAt: config.TARGET_ERROR_RATE,
      description: 'share of API responses with status 5xx over the evaluation window',
    },
    {
      name: 'cache_hit_ratio',
      severity: 'warning',
      direction: 'below',
      alertAt: config.ALERT_CACHE_HIT_RATIO,
      resolveAt: config.TARGET_CACHE_HIT_RATIO,
      description: 'robot status cache hits / lookups over the evaluation window',
    },
    {
      name: 'db_pool_usage',
      severity: 'warning',
      direction: 'above',
      alertAt: config.ALERT_DB_POOL_USAGE,
      resolveAt: config.TARGET_DB_POOL_USAGE,
      description: '(connections in use + waiting) / pool size',
    },
    {
      name: 'module_unhealthy',
      severity: 'critical',
      direction: 'above',
      alertAt: 0.5,
      resolveAt: 0.5,
      description: 'an active module whose health is not healthy (1) per the health monitor',
    },
    {
      name: 'robots_parked',
      severity: 'warning',
      direction: 'above',
      alertAt: 0.5,
      resolveAt: 0.5,
      description: 'robots parked, waiting for an operator to resume them',
    },
    {
      name: 'sla_at_risk',
      severity: 'warning',
      direction: 'above',
      alertAt: 0.5,
      resolveAt: 0.5,
      description: 'unfinished robots past their SLA risk point or deadline',
    },
  ];
}
