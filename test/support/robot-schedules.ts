import type { ScheduleView } from '../../api/schedules.service';
import { scheduledRobotId } from '../../core/adapters/crypto/scheduled-robot-id';
import { eventually, type TestSystem } from './test-system';

// Helpers of the robot schedule tests: read a schedule, its robots, and remove what a test made.

export async function scheduleOf(system: TestSystem, id: string): Promise<ScheduleView> {
  const res = await system.api.get(`/v1/schedules/${id}`);
  if (res.status !== 200)
    throw new Error(`GET /v1/schedules/${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as ScheduleView;
}

/** Robot rows whose input carries this marker (each schedule of a test uses its own). */
export async function robotsMarked(
  system: TestSystem,
  marker: string,
): Promise<{ robot_id: string; status: string }[]> {
  const rows = await system.sql.query(
    `select robot_id, status from robots where input_data->>'text' = $1 order by created_at`,
    [marker],
  );
  return rows.rows;
}

/** The robot id each nominal time names, as the firing derives it. */
export function robotIdsOf(schedule: ScheduleView, nominalTimes: string[]): string[] {
  return nominalTimes.map((time) => scheduledRobotId(schedule.temporalScheduleId, time));
}

/** Waits until no firing of the schedule is running (its robots finished, or allowAll). */
export async function settled(system: TestSystem, id: string, timeoutMs = 30_000): Promise<ScheduleView> {
  return eventually(async () => {
    const schedule = await scheduleOf(system, id);
    return schedule.runningRuns === 0 ? schedule : undefined;
  }, timeoutMs);
}

/** Deletes every robot schedule of this system (Temporal keeps them otherwise). */
export async function deleteSchedules(system: TestSystem): Promise<void> {
  const res = await system.api.get('/v1/schedules');
  for (const schedule of (res.body?.items ?? []) as ScheduleView[]) {
    await system.api.delete(`/v1/schedules/${schedule.id}`);
  }
}
