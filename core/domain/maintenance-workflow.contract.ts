// The maintenance workflows' contract (docs/adr/0051-maintenance-workflows.md), below both sides:
// the control worker starts them, tests and operators signal and query them. The signal and query
// handles are in workflows/maintenance.definitions.ts.

export const MAINTENANCE_WORKFLOW = 'maintenanceWorkflow';

/** One long-lived workflow per job, each a loop of the job's activities and a timer. */
export const MAINTENANCE_JOBS = ['health-monitor', 'performance-update', 'cleanup'] as const;
export type MaintenanceJob = (typeof MAINTENANCE_JOBS)[number];

/** How often the job runs and how many times per run; sent at start and by the `configure` signal. */
export interface MaintenanceSettings {
  everyMs: number;
  iterationsPerRun: number;
}

/** The workflow's argument, carried across continue-as-new: small: no results. */
export interface MaintenanceState extends MaintenanceSettings {
  job: MaintenanceJob;
  /** Iterations done by every run of this workflow id so far. */
  iterations: number;
  /** `runNow` requests not served yet (carried over when one arrives just before continue-as-new). */
  pending?: string[];
  /** The last `runNow` request ids whose pass has finished, newest last (at most 50). */
  served?: string[];
}

/** What the `maintenanceStatus` query answers: the state and this run's last outcome. */
export interface MaintenanceStatus extends MaintenanceState {
  lastRunAt: number | null;
  lastError: string | null;
  lastResult: unknown;
  served: string[];
}

/** `runNow`'s argument: an id the caller then finds in `served` once its pass is done. */
export type RunNowRequest = string;

export const MAINTENANCE_SIGNALS = { configure: 'configure', runNow: 'runNow' } as const;
export const MAINTENANCE_STATUS_QUERY = 'maintenanceStatus';

/** Fixed ids carrying the control queue, so separate deployments (and test runs) never share one. */
export const maintenanceWorkflowId = (controlQueue: string, job: MaintenanceJob): string =>
  `${controlQueue}:${job}`;
