import { uuidV5 } from './uuid-v5';

// A scheduled robot's id names its schedule and the firing's nominal time, so a firing that runs
// twice (a replay, a retried activity, a backfill of the same range) names the same robot.

/** The namespace of robot ids derived from schedule firings (a fixed, random UUID). */
export const SCHEDULE_ROBOT_NAMESPACE = '6f1d2c3b-8a4e-4b7f-9c2d-5e8a1b0f3d47';

/** `temporalScheduleId` carries the deployment's prefix; `nominalTime` is ISO 8601 in whole seconds. */
export function scheduledRobotId(temporalScheduleId: string, nominalTime: string): string {
  return uuidV5(`${temporalScheduleId}\n${new Date(nominalTime).toISOString()}`, SCHEDULE_ROBOT_NAMESPACE);
}
