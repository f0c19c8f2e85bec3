import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/types';
import type {
  MaintenanceJob,
  MaintenanceState,
  MaintenanceStatus,
} from '../core/domain/maintenance-workflow.contract';
import { configureSignal, maintenanceStatusQuery, runNowSignal } from './maintenance.definitions';

const maintenance = proxyActivities<ControlActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

// The one-shot workflows below were started by Temporal Schedules until ADR 0051; nothing starts them
// now, and they stay exported so runs begun by older deployments can finish.

export async function healthMonitorWorkflow() {
  return maintenance.monitorModuleHealth();
}

export async function performanceUpdateWorkflow() {
  return maintenance.updatePerformance();
}

export async function cleanupWorkflow() {
  const archived = await maintenance.archiveExecutions();
  const reconciled = await maintenance.reconcileRobots();
  // Last: a run started by older code replays the two calls above unchanged, then makes this one.
  const released = await maintenance.releaseIdempotencyKeys();
  return { ...archived, ...reconciled, ...released };
}

/** One pass of a job. Each activity is idempotent; one failing does not keep the others from running. */
async function runJob(job: MaintenanceJob): Promise<{ result: Record<string, unknown>; errors: string[] }> {
  const steps: Record<MaintenanceJob, (() => Promise<object>)[]> = {
    'health-monitor': [maintenance.monitorModuleHealth],
    'performance-update': [maintenance.updatePerformance],
    cleanup: [
      maintenance.archiveExecutions,
      maintenance.reconcileRobots,
      maintenance.releaseIdempotencyKeys,
      maintenance.purgeExpired,
    ],
  };
  const result: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const step of steps[job]) {
    try {
      Object.assign(result, await step());
    } catch (err) {
      errors.push(
        err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err),
      );
    }
  }
  return { result, errors };
}

/**
 * A maintenance job as one long-lived workflow (id `<control queue>:<job>`): wait its interval (or a
 * `runNow` / `configure` signal), run the job, again; after `iterationsPerRun` passes it continues
 * as new, so its history stays short and the Web UI lists one workflow per job, not one per pass.
 */
export async function maintenanceWorkflow(initial: MaintenanceState): Promise<never> {
  const status: MaintenanceStatus = {
    ...initial,
    lastRunAt: null,
    lastError: null,
    lastResult: null,
    served: [...(initial.served ?? [])],
  };
  const pending = [...(initial.pending ?? [])];
  let wake = pending.length > 0;
  let retime = false;
  setHandler(configureSignal, (settings) => {
    // A new interval restarts the current wait with it; the same one (every worker start sends it) changes nothing.
    if (settings.everyMs !== status.everyMs) retime = true;
    status.everyMs = settings.everyMs;
    status.iterationsPerRun = settings.iterationsPerRun;
  });
  setHandler(runNowSignal, (request) => {
    pending.push(request);
    wake = true;
  });
  setHandler(maintenanceStatusQuery, () => status);
  const waitForPass = async () => {
    for (;;) {
      retime = false;
      const signalled = await condition(() => wake || retime, status.everyMs);
      if (!signalled || wake) return;
    }
  };

  // Wait, then run: as a Schedule did, a fresh start (a deploy) runs its first pass one interval later.
  for (let pass = 0; pass < status.iterationsPerRun && !workflowInfo().continueAsNewSuggested; pass++) {
    await waitForPass();
    // Cleared before the job: a signal that arrives while it runs starts the next pass at once.
    wake = false;
    const serving = pending.splice(0);
    const { result, errors } = await runJob(status.job);
    status.served = [...status.served, ...serving].slice(-50);
    status.iterations += 1;
    status.lastRunAt = Date.now();
    status.lastResult = result;
    status.lastError = errors.length > 0 ? errors.join('; ') : null;
  }
  const { job, everyMs, iterationsPerRun, iterations, served } = status;
  return continueAsNew<typeof maintenanceWorkflow>({
    job,
    everyMs,
    iterationsPerRun,
    iterations,
    pending,
    served,
  });
}
