import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

let system: TestSystem;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    env: { MODULE_PICKUP_TIMEOUT_SECONDS: '3', STEP_HEARTBEAT_TIMEOUT_SECONDS: '2' },
  });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  await system?.close();
});

async function moduleLive(name: string) {
  const res = await system.api.get(`/v1/modules/${name}`);
  return res.status === 200 ? (res.body.live as { replicas: number; inFlight: number }) : undefined;
}

describe('a module worker killed mid-step', () => {
  it('the robot fails over and completes elsewhere, every step once, with the failover in its routing', async () => {
    const primary = spawnModuleWorker(system.config, 'fo-primary');
    const standby = spawnModuleWorker(system.config, 'fo-standby');
    workers.push(primary, standby);
    await eventually(
      async () => ((await moduleLive('fo-primary'))?.replicas === 1 ? true : undefined),
      30_000,
    );
    await eventually(
      async () => ((await moduleLive('fo-standby'))?.replicas === 1 ? true : undefined),
      30_000,
    );
    // Make the choice deterministic: the primary has the better record.
    await system.moduleStores.performance.set('fo-primary', {
      successEwma: 1,
      latencyEwmaMs: 5,
      samples: 20,
    });
    await system.moduleStores.performance.set('fo-standby', {
      successEwma: 0.9,
      latencyEwmaMs: 500,
      samples: 20,
    });

    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'noop-pipeline', input: { holdMs: 2500 } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await eventually(
      async () => ((await moduleLive('fo-primary'))?.inFlight === 1 ? true : undefined),
      20_000,
    );

    await primary.kill();

    const handle = system.temporal.workflow.getHandle(robotId);
    await handle.result();
    const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
    expect(robot.status).toBe('completed');
    expect(robot.moduleName).toBe('fo-standby');
    expect(robot.retryCount).toBe(1);
    // Routed per step: the later steps keep the module the failed-over step landed on.
    expect(robot.routing.map((decision) => [decision.cause, decision.step, decision.winner])).toEqual([
      ['initial', 'first', 'fo-primary'],
      ['failover', 'first', 'fo-standby'],
      ['initial', 'second', 'fo-standby'],
      ['initial', 'third', 'fo-standby'],
    ]);
    expect(robot.routing[1]).toMatchObject({ step: 'first', exclude: ['fo-primary'] });
    expect(robot.progress?.steps.map((step) => [step.name, step.status, step.moduleName])).toEqual([
      ['first', 'completed', 'fo-standby'],
      ['second', 'completed', 'fo-standby'],
      ['third', 'completed', 'fo-standby'],
    ]);

    // Each step's output was produced exactly once: one completed noop activity per step.
    const history = await handle.fetchHistory();
    const completedNoops = (history.events ?? []).filter((event) => {
      const scheduledId = event.activityTaskCompletedEventAttributes?.scheduledEventId;
      if (!scheduledId) return false;
      const scheduled = history.events?.find(
        (candidate) => String(candidate.eventId) === String(scheduledId),
      );
      return scheduled?.activityTaskScheduledEventAttributes?.activityType?.name === 'noop';
    });
    expect(completedNoops).toHaveLength(3);
    const row = await system.sql.query('select retry_count, module_name from robots where robot_id = $1', [
      robotId,
    ]);
    expect(row.rows[0]).toEqual({ retry_count: 1, module_name: 'fo-standby' });
  }, 120_000);

  it('the dead replica expires from liveness and its in-flight count is dropped', async () => {
    const live = await eventually(async () => {
      const state = await moduleLive('fo-primary');
      return state && state.replicas === 0 ? state : undefined;
    }, 20_000);
    expect(live.inFlight).toBe(0);
  });
});
