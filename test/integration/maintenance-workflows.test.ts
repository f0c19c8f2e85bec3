import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import {
  MAINTENANCE_STATUS_QUERY,
  MAINTENANCE_WORKFLOW,
  type MaintenanceStatus,
} from '../../core/domain/maintenance-workflow.contract';
import { createLogger } from '../../core/observability/logger';
import { createControlWorker } from '../../workers/control.worker';
import {
  ensureMaintenanceWorkflows,
  maintenanceWorkflows,
  runMaintenanceNow,
} from '../../workers/maintenance-workflows';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    env: {
      HEALTH_MONITOR_INTERVAL_SECONDS: '2',
      PERFORMANCE_UPDATE_INTERVAL_SECONDS: '2',
      CLEANUP_INTERVAL_MINUTES: '60',
      RECONCILE_GRACE_SECONDS: '10',
    },
  });
});

let connection: NativeConnection | undefined;
let restarted: Worker | undefined;
let restartedRun: Promise<void> | undefined;

afterAll(async () => {
  restarted?.shutdown();
  await restartedRun?.catch(() => undefined);
  await connection?.close();
  await system?.close();
});

/** Every execution (runs of every id) of the maintenance workflow on this system's control queue. */
async function maintenanceExecutions(target: TestSystem) {
  const query = `WorkflowType = "${MAINTENANCE_WORKFLOW}" AND TaskQueue = "${target.config.CONTROL_TASK_QUEUE}"`;
  const found: { workflowId: string; runId: string; status: string }[] = [];
  for await (const wf of target.temporal.workflow.list({ query })) {
    found.push({ workflowId: wf.workflowId, runId: wf.runId, status: wf.status.name });
  }
  return found;
}

const statusOf = (target: TestSystem, workflowId: string) =>
  target.temporal.workflow.getHandle(workflowId).query<MaintenanceStatus>(MAINTENANCE_STATUS_QUERY);

describe('maintenance workflows', () => {
  it('one long-lived workflow per job runs, and no Temporal Schedule', async () => {
    const workflows = maintenanceWorkflows(system.config);
    expect(workflows.map(({ job, workflowId }) => ({ job, workflowId }))).toEqual([
      { job: 'health-monitor', workflowId: `${system.config.CONTROL_TASK_QUEUE}:health-monitor` },
      { job: 'performance-update', workflowId: `${system.config.CONTROL_TASK_QUEUE}:performance-update` },
      { job: 'cleanup', workflowId: `${system.config.CONTROL_TASK_QUEUE}:cleanup` },
    ]);
    const running = await eventually(async () => {
      const found = (await maintenanceExecutions(system)).filter((wf) => wf.status === 'RUNNING');
      return found.length === 3 ? found : undefined;
    });
    expect(running.map((wf) => wf.workflowId).sort()).toEqual(workflows.map((wf) => wf.workflowId).sort());
    for (const { workflowId } of workflows) {
      await expect(system.temporal.schedule.getHandle(workflowId).describe()).rejects.toBeInstanceOf(
        ScheduleNotFoundError,
      );
    }
    // The health monitor passes every 2 s inside one workflow: several passes, still one run.
    const health = workflows[0]?.workflowId ?? '';
    await eventually(
      async () => ((await statusOf(system, health)).iterations >= 3 ? true : undefined),
      30_000,
    );
    const healthRuns = (await maintenanceExecutions(system)).filter((wf) => wf.workflowId === health);
    expect(healthRuns).toHaveLength(1);
  });

  it('a control worker restart keeps the running workflows (no second one) and applies a new interval', async () => {
    const before = await maintenanceExecutions(system);
    const health = `${system.config.CONTROL_TASK_QUEUE}:health-monitor`;
    const performance = `${system.config.CONTROL_TASK_QUEUE}:performance-update`;
    // Queries are answered by a worker: read before the stop.
    const passesBefore = (await statusOf(system, health)).iterations;
    system.controlWorker.shutdown();
    await eventually(async () => (system.controlWorker.getState() === 'STOPPED' ? true : undefined));

    // The restarted worker comes with a changed interval; it stays for the rest of this file.
    connection = await NativeConnection.connect({ address: system.config.TEMPORAL_ADDRESS });
    restarted = await createControlWorker({
      config: { ...system.config, PERFORMANCE_UPDATE_INTERVAL_SECONDS: 3 },
      connection,
      client: system.temporal,
      database: system.database,
      cache: system.cache,
      moduleStores: system.moduleStores,
      events: system.events,
      logger: createLogger(system.config, 'test'),
    });
    restartedRun = restarted.run();

    await eventually(async () => ((await statusOf(system, performance)).everyMs === 3000 ? true : undefined));
    // The same runs go on passing under the new worker.
    await eventually(async () =>
      (await statusOf(system, health)).iterations >= passesBefore + 2 ? true : undefined,
    );
    const after = await maintenanceExecutions(system);
    const running = (list: typeof after) =>
      list
        .filter((wf) => wf.status === 'RUNNING')
        .map((wf) => wf.runId)
        .sort();
    expect(running(after)).toEqual(running(before));
    expect(running(after)).toHaveLength(3);
  });

  it('removes the Temporal Schedules that ran maintenance before', async () => {
    const [health] = maintenanceWorkflows(system.config);
    const scheduleId = health?.workflowId ?? '';
    // As the control worker of an earlier release left it.
    await system.temporal.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1 hour' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'healthMonitorWorkflow',
        workflowId: `${scheduleId}-run`,
        taskQueue: system.config.CONTROL_TASK_QUEUE,
        args: [],
      },
    });
    await ensureMaintenanceWorkflows(system.temporal, system.config);
    await expect(system.temporal.schedule.getHandle(scheduleId).describe()).rejects.toBeInstanceOf(
      ScheduleNotFoundError,
    );
  });

  it('the health monitor marks a module whose replicas are gone unhealthy, and records live state', async () => {
    const standby = await system.startModule({ name: 'short-lived' });
    await standby.stop();
    await eventually(async () => {
      const res = await system.api.get('/v1/modules/short-lived');
      return res.body.healthStatus === 'unhealthy' ? true : undefined;
    }, 20_000);
    const row = await system.sql.query(
      'select registration_data from module_registry where module_name = $1',
      [system.moduleName],
    );
    expect(row.rows[0].registration_data.live).toMatchObject({ replicas: 1, capacity: 5 });
  });

  it('the performance update stores score and tier from step outcomes', async () => {
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'order' } });
    await system.temporal.workflow.getHandle(created.body.robotId).result();
    const row = await eventually(async () => {
      const result = await system.sql.query(
        'select performance_score, performance_tier from module_registry where module_name = $1',
        [system.moduleName],
      );
      const current = result.rows[0];
      return current && current.performance_score !== 0.5 ? current : undefined;
    }, 20_000);
    expect(row.performance_score).toBeGreaterThan(0.9);
    expect(row.performance_tier).toBe('platinum');
  });

  it('cleanup archives old executions; reconciliation restarts an orphaned robot row and restores a lost one', async () => {
    // Two finished executions of a finished robot: one past the retention (30 days), one within it.
    const finished = randomUUID();
    const [old, recent] = [randomUUID(), randomUUID()];
    await system.sql.query(
      `insert into robots (robot_id, robot_type, status, input_data, priority)
       values ($1, 'demo', 'completed', '{}', 'normal')`,
      [finished],
    );
    await system.sql.query(
      `insert into robot_execute (execution_id, robot_id, execution_state, started_at, completed_at)
       values ($1, $3, 'completed', now() - interval '41 days', now() - interval '40 days'),
              ($2, $3, 'completed', now() - interval '2 days', now() - interval '1 day')`,
      [old, recent, finished],
    );

    // A row whose workflow never started (as if the API died between insert and start).
    const orphan = randomUUID();
    await system.sql.query(
      `insert into robots (robot_id, robot_type, status, input_data, priority, created_at, updated_at)
       values ($1, 'demo', 'queued', $2, 'normal', now() - interval '1 hour', now() - interval '1 hour')`,
      [orphan, JSON.stringify({ text: 'invoice found again' })],
    );
    // A finished robot whose row was lost.
    const lost = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'lost row' } });
    await system.temporal.workflow.getHandle(lost.body.robotId).result();
    await system.sql.query('delete from robots where robot_id = $1', [lost.body.robotId]);
    await eventually(async () => {
      for await (const wf of system.temporal.workflow.list({
        query: `WorkflowId = "${lost.body.robotId}"`,
      })) {
        return wf.workflowId;
      }
      return undefined;
    });

    const status = await runMaintenanceNow(system.temporal, system.config, 'cleanup');
    expect(status.lastError).toBeNull();

    const restarted = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${orphan}`);
      return res.body.status === 'completed' ? res.body : undefined;
    });
    expect(restarted.output['classify-text'].category).toBe('invoice');

    const restored = await eventually(async () => {
      const rows = await system.sql.query('select status, robot_type from robots where robot_id = $1', [
        lost.body.robotId,
      ]);
      return rows.rows[0];
    });
    expect(restored).toEqual({ status: 'completed', robot_type: 'demo' });

    const where = 'where execution_id = any($1::uuid[])';
    const live = await system.sql.query(`select execution_id from robot_execute ${where}`, [[old, recent]]);
    const archived = await system.sql.query(
      `select execution_id, robot_id from robot_execute_archive ${where}`,
      [[old, recent]],
    );
    expect(live.rows).toEqual([{ execution_id: recent }]);
    expect(archived.rows).toEqual([{ execution_id: old, robot_id: finished }]);
  }, 60_000);
});

describe('maintenance workflows over time', () => {
  it('continue as new after their iterations, so passes grow and executions stay few (a Schedule beside them makes one per pass)', async () => {
    const fast = await startTestSystem({
      module: false,
      env: {
        HEALTH_MONITOR_INTERVAL_SECONDS: '1',
        PERFORMANCE_UPDATE_INTERVAL_SECONDS: '1',
        MAINTENANCE_ITERATIONS_PER_RUN: '4',
      },
    });
    // Before ADR 0051, for comparison: the health monitor as a Temporal Schedule at the same interval.
    const legacy = `${fast.config.CONTROL_TASK_QUEUE}:legacy-health-monitor`;
    await fast.temporal.schedule.create({
      scheduleId: legacy,
      spec: { intervals: [{ every: '1 second' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'healthMonitorWorkflow',
        workflowId: `${legacy}-run`,
        taskQueue: fast.config.CONTROL_TASK_QUEUE,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    });
    try {
      const health = `${fast.config.CONTROL_TASK_QUEUE}:health-monitor`;
      await eventually(
        async () => ((await statusOf(fast, health)).iterations >= 12 ? true : undefined),
        60_000,
        250,
      );
      await fast.temporal.schedule.getHandle(legacy).pause('measured');
      // The pass count is carried across continue-as-new: it came through several runs.
      const executions = await eventually(async () => {
        const found = await maintenanceExecutions(fast);
        const healthRuns = found.filter((wf) => wf.workflowId === health);
        return healthRuns.some((wf) => wf.status === 'CONTINUED_AS_NEW') ? found : undefined;
      });
      // Read after the list: the list holds no run that this count does not cover.
      const passes = (await statusOf(fast, health)).iterations;
      const healthRuns = executions.filter((wf) => wf.workflowId === health);
      expect(healthRuns.filter((wf) => wf.status === 'RUNNING')).toHaveLength(1);
      // One run per 4 passes (and the one running): far fewer than one execution per pass.
      expect(passes).toBeGreaterThanOrEqual(12);
      expect(healthRuns.length).toBeGreaterThanOrEqual(2);
      expect(healthRuns.length).toBeLessThanOrEqual(Math.ceil(passes / 4) + 1);
      // Every job of the namespace's list: 3 running, the rest continued runs of the two fast jobs.
      expect(executions.filter((wf) => wf.status === 'RUNNING')).toHaveLength(3);
      expect(executions.length).toBeLessThanOrEqual(2 * (Math.ceil(passes / 4) + 1) + 1);

      // The Schedule, over the same time, made one execution per firing.
      const legacyRuns = await eventually(async () => {
        let count = 0;
        const query = `WorkflowType = "healthMonitorWorkflow" AND TaskQueue = "${fast.config.CONTROL_TASK_QUEUE}"`;
        for await (const _ of fast.temporal.workflow.list({ query })) count++;
        return count >= 8 ? count : undefined;
      });
      process.stdout.write(
        `maintenance over ${passes} passes of 1 s: health monitor ${healthRuns.length} executions as a workflow, ${legacyRuns} as a Schedule; all maintenance workflows: ${executions.length}\n`,
      );
      expect(legacyRuns).toBeGreaterThan(healthRuns.length);
    } finally {
      await fast.temporal.schedule
        .getHandle(legacy)
        .delete()
        .catch(() => undefined);
      await fast.close();
    }
  }, 90_000);
});
