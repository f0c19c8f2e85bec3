import { randomUUID } from 'node:crypto';
import { type Client, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../core/config';
import {
  MAINTENANCE_JOBS,
  MAINTENANCE_SIGNALS,
  MAINTENANCE_STATUS_QUERY,
  MAINTENANCE_WORKFLOW,
  type MaintenanceJob,
  type MaintenanceSettings,
  type MaintenanceState,
  type MaintenanceStatus,
  maintenanceWorkflowId,
} from '../core/domain/maintenance-workflow.contract';
import type { Logger } from '../core/observability/logger';

type MaintenanceConfig = Pick<
  Config,
  | 'CONTROL_TASK_QUEUE'
  | 'HEALTH_MONITOR_INTERVAL_SECONDS'
  | 'PERFORMANCE_UPDATE_INTERVAL_SECONDS'
  | 'CLEANUP_INTERVAL_MINUTES'
  | 'MAINTENANCE_ITERATIONS_PER_RUN'
>;

export interface MaintenanceWorkflow {
  job: MaintenanceJob;
  workflowId: string;
  settings: MaintenanceSettings;
}

/** The maintenance workflows this configuration wants, with their intervals. */
export function maintenanceWorkflows(config: MaintenanceConfig): MaintenanceWorkflow[] {
  const everySeconds: Record<MaintenanceJob, number> = {
    'health-monitor': config.HEALTH_MONITOR_INTERVAL_SECONDS,
    'performance-update': config.PERFORMANCE_UPDATE_INTERVAL_SECONDS,
    cleanup: config.CLEANUP_INTERVAL_MINUTES * 60,
  };
  return MAINTENANCE_JOBS.map((job) => ({
    job,
    workflowId: maintenanceWorkflowId(config.CONTROL_TASK_QUEUE, job),
    settings: { everyMs: everySeconds[job] * 1000, iterationsPerRun: config.MAINTENANCE_ITERATIONS_PER_RUN },
  }));
}

/**
 * Starts each maintenance workflow that is not running, and sends the running one this
 * configuration (signal-with-start: one call, never a second workflow of an id, whichever of
 * several control workers comes first). Removes the Temporal Schedules that ran maintenance before
 * ADR 0051 (ids `<control queue>:<job>`), when found. Called by the control worker at startup.
 */
export async function ensureMaintenanceWorkflows(
  client: Client,
  config: MaintenanceConfig,
  logger?: Logger,
): Promise<MaintenanceWorkflow[]> {
  const workflows = maintenanceWorkflows(config);
  for (const { job, workflowId, settings } of workflows) {
    const initial: MaintenanceState = { job, ...settings, iterations: 0 };
    await client.workflow.signalWithStart(MAINTENANCE_WORKFLOW, {
      workflowId,
      taskQueue: config.CONTROL_TASK_QUEUE,
      args: [initial],
      signal: MAINTENANCE_SIGNALS.configure,
      signalArgs: [settings],
      memo: { purpose: `rpa-orchestrator maintenance: ${job}` },
    });
    try {
      await client.schedule.getHandle(workflowId).delete();
      logger?.info({ scheduleId: workflowId }, 'old maintenance schedule removed');
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
  return workflows;
}

/** Runs a job now (the `runNow` signal) and resolves with the status once that pass has finished. */
export async function runMaintenanceNow(
  client: Client,
  config: MaintenanceConfig,
  job: MaintenanceJob,
  timeoutMs = 60_000,
): Promise<MaintenanceStatus> {
  const handle = client.workflow.getHandle(maintenanceWorkflowId(config.CONTROL_TASK_QUEUE, job));
  const request = randomUUID();
  await handle.signal(MAINTENANCE_SIGNALS.runNow, request);
  const deadline = Date.now() + timeoutMs;
  // Polled: a continue-as-new between the signal and the pass's end starts a new run, which a
  // query always reaches (the handle follows the latest run).
  while (Date.now() < deadline) {
    const status = await handle.query<MaintenanceStatus>(MAINTENANCE_STATUS_QUERY);
    if (status.served.includes(request)) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`maintenance job ${job} did not run within ${timeoutMs} ms`);
}

/** Terminates the maintenance workflows (benchmarks and tests that own a control queue of their own). */
export async function stopMaintenanceWorkflows(client: Client, config: MaintenanceConfig): Promise<void> {
  await Promise.all(
    maintenanceWorkflows(config).map(({ workflowId }) =>
      client.workflow
        .getHandle(workflowId)
        .terminate('maintenance stopped')
        .catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }),
    ),
  );
}
