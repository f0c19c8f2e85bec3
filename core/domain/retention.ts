import type { RobotTypeDefinition } from './robot-types';

// Retention's policy (docs/adr/0050-retention.md): how long finished robots are kept, per type.

/** Days a finished robot is kept, per robot type; types not named keep `defaultDays`. */
export interface RetentionPolicy {
  defaultDays: number;
  byType: Record<string, number>;
}

/** The days each type keeps its finished robots: its `retentionDays`, else the deployment default. */
export function retentionPolicy(
  types: readonly Pick<RobotTypeDefinition, 'name' | 'retentionDays'>[],
  defaultDays: number,
): RetentionPolicy {
  const byType: Record<string, number> = {};
  for (const type of types) if (type.retentionDays !== undefined) byType[type.name] = type.retentionDays;
  return { defaultDays, byType };
}

/** The longest any robot row is kept: what the Temporal namespace's retention must cover. */
export function longestRetentionDays(policy: RetentionPolicy): number {
  return Math.max(policy.defaultDays, ...Object.values(policy.byType));
}
