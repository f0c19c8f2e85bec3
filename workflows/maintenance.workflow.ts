import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../activities/types';

// Run by Temporal Schedules (workers/schedules.ts), so they appear on the Web UI's Schedules page
// and survive any worker restart; each is one or two idempotent activities.

const maintenance = proxyActivities<ControlActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
});

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
