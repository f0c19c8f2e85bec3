import { randomUUID } from 'node:crypto';
import { maintenanceSchedules } from '../../workers/schedules';
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

afterAll(async () => {
  await system?.close();
});

async function completedRunsOf(scheduleId: string): Promise<number> {
  const description = await system.temporal.schedule.getHandle(scheduleId).describe();
  return description.info.recentActions.length;
}

describe('maintenance schedules', () => {
  it('exist as Temporal Schedules and run', async () => {
    const schedules = maintenanceSchedules(system.config);
    expect(schedules.map((schedule) => schedule.workflowType)).toEqual([
      'healthMonitorWorkflow',
      'performanceUpdateWorkflow',
      'cleanupWorkflow',
    ]);
    for (const schedule of schedules) {
      const description = await system.temporal.schedule.getHandle(schedule.id).describe();
      expect(description.action).toMatchObject({
        type: 'startWorkflow',
        workflowType: schedule.workflowType,
      });
    }
    const [health, performance] = schedules;
    await eventually(async () => ((await completedRunsOf(health?.id ?? '')) > 0 ? true : undefined), 20_000);
    await eventually(
      async () => ((await completedRunsOf(performance?.id ?? '')) > 0 ? true : undefined),
      20_000,
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

    const cleanup = maintenanceSchedules(system.config)[2];
    await system.temporal.schedule.getHandle(cleanup?.id ?? '').trigger();

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
