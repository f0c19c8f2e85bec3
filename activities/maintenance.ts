import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../core/config';
import { moduleHealth } from '../core/domain/module-health';
import { performanceScore, performanceTier } from '../core/domain/performance';
import type { RobotStatus } from '../core/domain/robot';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import { ROBOT_WORKFLOW, robotStartOptions, robotWorkflowArgs } from '../core/domain/robot-workflow.contract';
import type { Logger } from '../core/observability/logger';
import { moduleGauges } from '../core/observability/metrics';
import type { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleStores } from '../db/module-stores';
import { type RobotsRepository, slaOf } from '../db/robots.repository';
import type { RobotRow } from '../db/schema';

export interface MaintenanceDeps {
  config: Pick<
    Config,
    | 'PERFORMANCE_TARGET_LATENCY_MS'
    | 'EXECUTION_RETENTION_DAYS'
    | 'RECONCILE_GRACE_SECONDS'
    | 'CONTROL_TASK_QUEUE'
    | 'MODULE_WAIT_SECONDS'
    | 'ROBOT_PARK_TIMEOUT'
    | 'APPROVAL_TIMEOUT'
    | 'APPROVAL_ESCALATION_TIMEOUT'
    | 'MODULE_PICKUP_TIMEOUT_SECONDS'
    | 'STEP_HEARTBEAT_TIMEOUT_SECONDS'
    | 'IDEMPOTENCY_KEY_TTL_HOURS'
  >;
  moduleStores: ModuleStores;
  robots: Pick<
    RobotsRepository,
    'close' | 'restoreFromWorkflow' | 'listStale' | 'existingIds' | 'releaseExpiredIdempotencyKeys'
  >;
  executions: Pick<ExecutionsRepository, 'archiveFinished'>;
  /** The definition a robot was created with: built in, else registered (any version). */
  robotDefinition: (name: string, version: number) => Promise<RobotTypeDefinition | undefined>;
  client: Client;
  logger: Logger;
}

/** Temporal's closed states and the robot status each one means. */
const closedStatus: Record<string, RobotStatus> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TIMED_OUT: 'failed',
  TERMINATED: 'failed',
  CANCELLED: 'cancelled',
};

const RECONCILE_BATCH = 200;
const RELEASE_BATCH = 5000;
const ROBOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Drops dead replicas (and their in-flight counts) and writes each module's health and live summary. */
async function monitorModuleHealth({ moduleStores, logger }: MaintenanceDeps) {
  const now = Date.now();
  const removedReplicas = await moduleStores.state.pruneExpired(now);
  const [rows, live, circuits, performance] = await Promise.all([
    moduleStores.modules.list(),
    moduleStores.state.snapshot(now),
    moduleStores.circuits.states(now),
    moduleStores.performance.all(),
  ]);
  const changed: { module: string; from: string; to: string }[] = [];
  for (const row of rows.filter((module) => module.isActive)) {
    const state = live.get(row.moduleName);
    const stats = performance.get(row.moduleName);
    const health = moduleHealth({
      liveReplicas: state?.liveReplicas ?? 0,
      circuit: circuits.get(row.moduleName) ?? 'closed',
      errorRate: stats && stats.samples > 0 ? 1 - stats.successEwma : 0,
    });
    moduleGauges.replicas.set({ module: row.moduleName }, state?.liveReplicas ?? 0);
    moduleGauges.capacity.set({ module: row.moduleName }, state?.capacity ?? 0);
    moduleGauges.inFlight.set({ module: row.moduleName }, state?.inFlight ?? 0);
    moduleGauges.healthy.remove({ module: row.moduleName, status: row.healthStatus });
    moduleGauges.healthy.set({ module: row.moduleName, status: health }, health === 'healthy' ? 1 : 0);
    if (health !== row.healthStatus)
      changed.push({ module: row.moduleName, from: row.healthStatus, to: health });
    await moduleStores.modules.update(row.moduleName, {
      healthStatus: health,
      registrationData: {
        ...row.registrationData,
        live: {
          replicas: state?.liveReplicas ?? 0,
          capacity: state?.capacity ?? 0,
          inFlight: state?.inFlight ?? 0,
          checkedAt: new Date(now).toISOString(),
        },
      },
    });
  }
  if (changed.length > 0 || removedReplicas.length > 0) {
    await moduleStores.routingTable.invalidate();
    logger.info({ changed, removedReplicas }, 'module health changed');
  }
  return { checked: rows.length, changed, removedReplicas };
}

/** Persists each module's live performance (EWMA of success and latency) as score and tier. */
async function updatePerformance({ config, moduleStores }: MaintenanceDeps) {
  const performance = await moduleStores.performance.all();
  const updated: { module: string; score: number; tier: string }[] = [];
  for (const [module, stats] of performance) {
    if (stats.samples === 0) continue;
    const score = performanceScore(stats, config.PERFORMANCE_TARGET_LATENCY_MS);
    const tier = performanceTier(score);
    moduleGauges.score.set({ module }, score);
    if (await moduleStores.modules.update(module, { performanceScore: score, performanceTier: tier })) {
      updated.push({ module, score, tier });
    }
  }
  if (updated.length > 0) await moduleStores.routingTable.invalidate();
  return { updated };
}

/**
 * One robot row left open: a closed workflow gives it its outcome; a missing workflow is started
 * again from the stored input (or the robot fails when its type is gone). Null: nothing to repair.
 */
async function settleOpenRobot(
  { config, robots, robotDefinition, client }: MaintenanceDeps,
  row: RobotRow,
): Promise<{ closed: RobotStatus } | { restarted: true } | null> {
  const handle = client.workflow.getHandle(row.robotId);
  try {
    const description = await handle.describe();
    const status = closedStatus[description.status.name];
    if (!status) return null;
    const outcome = status === 'completed' ? await handle.result().catch(() => null) : null;
    await robots.close(row.robotId, status, {
      output: (outcome as { output?: Record<string, unknown> } | null)?.output,
      error: status === 'completed' ? null : `workflow ${description.status.name.toLowerCase()} (reconciled)`,
    });
    return { closed: status };
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  // The version the robot was created with.
  const definition = await robotDefinition(row.robotType, row.robotTypeVersion);
  if (!definition) {
    await robots.close(row.robotId, 'failed', {
      error: `robot type ${row.robotType} no longer exists (reconciled)`,
    });
    return { closed: 'failed' };
  }
  const args = robotWorkflowArgs({
    config,
    robotId: row.robotId,
    definition,
    input: row.inputData,
    priority: row.priority,
    sla: slaOf(row),
  });
  await client.workflow
    .start(ROBOT_WORKFLOW, robotStartOptions(args, config.CONTROL_TASK_QUEUE))
    .catch((startErr: unknown) => {
      if (!(startErr instanceof WorkflowExecutionAlreadyStartedError)) throw startErr;
    });
  return { restarted: true };
}

/** Robot workflows of the last day on our queue that have no robot row get one, from the memo. */
async function adoptOrphanWorkflows({ config, robots, client }: MaintenanceDeps) {
  const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
  const query = `WorkflowType = "${ROBOT_WORKFLOW}" AND TaskQueue = "${config.CONTROL_TASK_QUEUE}" AND StartTime > "${since}"`;
  const seen: string[] = [];
  for await (const workflow of client.workflow.list({ query, pageSize: RECONCILE_BATCH })) {
    // Robot ids are UUIDs; any other workflow id on the queue is not a robot of ours.
    if (!ROBOT_ID.test(workflow.workflowId)) continue;
    seen.push(workflow.workflowId);
    if (seen.length >= RECONCILE_BATCH * 5) break;
  }
  const known = new Set<string>();
  for (let i = 0; i < seen.length; i += RECONCILE_BATCH) {
    for (const robotId of await robots.existingIds(seen.slice(i, i + RECONCILE_BATCH))) known.add(robotId);
  }
  const created: string[] = [];
  for (const robotId of seen.filter((id) => !known.has(id))) {
    const description = await client.workflow.getHandle(robotId).describe();
    const memo = (description.memo ?? {}) as { robotType?: string; robotTypeVersion?: number };
    const restored = await robots.restoreFromWorkflow({
      robotId,
      robotType: memo.robotType ?? 'unknown',
      robotTypeVersion: memo.robotTypeVersion ?? 1,
      status: closedStatus[description.status.name] ?? 'running',
      createdAt: description.startTime,
    });
    if (restored) created.push(robotId);
  }
  return { workflowsSeen: seen.length, created };
}

/**
 * Makes Postgres and Temporal agree. A robot row left open with no workflow (the API died between
 * insert and start, or history was lost) is started again from its stored input; a row left open
 * whose workflow has closed takes the workflow's outcome; a robot workflow with no row gets one.
 * Everything repaired is returned (visible as the schedule run's result) and logged.
 */
async function reconcileRobots(deps: MaintenanceDeps) {
  const grace = new Date(Date.now() - deps.config.RECONCILE_GRACE_SECONDS * 1000);
  const open = await deps.robots.listStale(grace, RECONCILE_BATCH);
  const restarted: string[] = [];
  const closed: { robotId: string; status: RobotStatus }[] = [];
  for (const row of open) {
    const outcome = await settleOpenRobot(deps, row);
    if (outcome && 'closed' in outcome) closed.push({ robotId: row.robotId, status: outcome.closed });
    else if (outcome) restarted.push(row.robotId);
  }
  const { workflowsSeen, created } = await adoptOrphanWorkflows(deps);
  if (restarted.length + closed.length + created.length > 0) {
    deps.logger.warn({ restarted, closed, created }, 'reconciliation repaired robots');
  }
  return { checked: open.length, workflowsSeen, restarted, closed, created };
}

/**
 * Clears idempotency keys older than IDEMPOTENCY_KEY_TTL_HOURS (the robots stay), in batches so a
 * long backlog never holds one huge update. Creation checks the age itself; this keeps the unique
 * index small and lets an old key be reused without a failed insert first.
 */
async function releaseIdempotencyKeys({ config, robots }: MaintenanceDeps) {
  let released = 0;
  for (;;) {
    const batch = await robots.releaseExpiredIdempotencyKeys(config.IDEMPOTENCY_KEY_TTL_HOURS, RELEASE_BATCH);
    released += batch;
    if (batch < RELEASE_BATCH) return { idempotencyKeysReleased: released };
  }
}

/** Activities of the maintenance workflows (ADR 0051). Each is idempotent: running it twice changes nothing more. */
export function createMaintenanceActivities(deps: MaintenanceDeps) {
  return {
    monitorModuleHealth: () => monitorModuleHealth(deps),
    updatePerformance: () => updatePerformance(deps),
    /** Moves finished executions past the retention period to robot_execute_archive. */
    archiveExecutions: async () => ({
      archived: await deps.executions.archiveFinished(deps.config.EXECUTION_RETENTION_DAYS),
    }),
    reconcileRobots: () => reconcileRobots(deps),
    releaseIdempotencyKeys: () => releaseIdempotencyKeys(deps),
  };
}
