import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from '../core/config';

export interface MaintenanceSchedule {
  id: string;
  workflowType: 'healthMonitorWorkflow' | 'performanceUpdateWorkflow' | 'cleanupWorkflow';
  everySeconds: number;
}

/** Schedule ids carry the control queue, so separate deployments (and test runs) never share one. */
export function maintenanceSchedules(config: Config): MaintenanceSchedule[] {
  const prefix = config.CONTROL_TASK_QUEUE;
  return [
    {
      id: `${prefix}:health-monitor`,
      workflowType: 'healthMonitorWorkflow',
      everySeconds: config.HEALTH_MONITOR_INTERVAL_SECONDS,
    },
    {
      id: `${prefix}:performance-update`,
      workflowType: 'performanceUpdateWorkflow',
      everySeconds: config.PERFORMANCE_UPDATE_INTERVAL_SECONDS,
    },
    {
      id: `${prefix}:cleanup`,
      workflowType: 'cleanupWorkflow',
      everySeconds: config.CLEANUP_INTERVAL_MINUTES * 60,
    },
  ];
}

/** Creates the maintenance schedules, or brings existing ones to the configured interval. */
export async function ensureSchedules(client: Client, config: Config): Promise<MaintenanceSchedule[]> {
  const schedules = maintenanceSchedules(config);
  for (const schedule of schedules) {
    const spec = { intervals: [{ every: `${schedule.everySeconds} seconds` as const }] };
    const action = {
      type: 'startWorkflow' as const,
      workflowType: schedule.workflowType,
      workflowId: `${schedule.id}-run`,
      taskQueue: config.CONTROL_TASK_QUEUE,
      args: [],
    };
    try {
      await client.schedule.create({
        scheduleId: schedule.id,
        spec,
        action,
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
        memo: { purpose: `rpa-orchestrator maintenance: ${schedule.workflowType}` },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(schedule.id).update((previous) => ({ ...previous, spec, action }));
    }
  }
  return schedules;
}
