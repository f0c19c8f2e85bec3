import { NativeConnection, type Worker } from '@temporalio/worker';
import { scheduledRobotId } from '../../core/adapters/crypto/scheduled-robot-id';
import {
  SCHEDULED_ROBOT_WORKFLOW,
  type ScheduledRobotArgs,
  temporalScheduleId,
} from '../../core/domain/robot-schedule';
import { createLogger } from '../../core/observability/logger';
import { createControlWorker } from '../../workers/control.worker';
import { robotIdsOf, robotsMarked, scheduleOf, settled } from '../support/robot-schedules';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// What goes wrong around robot schedules: the robot type is deleted, a robot outlasts the interval
// (overlap skip), the control worker restarts, a firing runs twice.

let system: TestSystem;
const made: string[] = [];

beforeAll(async () => {
  system = await startTestSystem();
  for (const [name, ms] of [
    ['doomed', 10],
    ['slow-scheduled', 6000],
  ] as const) {
    const type = await system.api
      .post('/v1/robot-types')
      .send({ name, steps: [{ name: 'wait', kind: 'delay', params: { ms } }] });
    expect(type.status).toBe(201);
  }
});

afterAll(async () => {
  for (const id of made) await system?.api.delete(`/v1/schedules/${id}`);
  await system?.close();
});

async function create(body: Record<string, unknown>) {
  const res = await system.api.post('/v1/schedules').send(body);
  expect(res.status).toBe(201);
  made.push(res.body.id);
  return res.body;
}

it('a schedule whose robot type was deleted pauses with a clear error, after one failed firing (no retry loop)', async () => {
  const schedule = await create({ id: 'orphaned', type: 'doomed', input: {}, cron: '0 0 1 1 *' });
  await system.sql.query(`delete from robot_types where name = 'doomed'`);
  expect((await system.api.post('/v1/schedules/orphaned/trigger').send({})).status).toBe(202);

  const failed = await eventually(async () => {
    const current = await scheduleOf(system, 'orphaned');
    return current.paused ? current : undefined;
  });
  expect(failed.lastError).toMatch(/robot type "doomed": unknown robot type "doomed"/);
  expect(failed.note).toMatch(/^error: .*fix the schedule, then resume it/);
  expect(failed.nextRunTimes).toEqual([]);

  const [run] = failed.recentRuns;
  const handle = system.temporal.workflow.getHandle(run?.workflowId ?? '');
  await expect(handle.result()).rejects.toThrow();
  expect((await handle.describe()).status.name).toBe('FAILED');
  const history = await handle.fetchHistory();
  const attempts = (history.events ?? []).filter((event) => event.activityTaskStartedEventAttributes);
  expect(attempts.map((event) => event.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
  expect(failed.recentRuns).toHaveLength(1);
  expect((await system.sql.query(`select 1 from robots where robot_type = 'doomed'`)).rows).toEqual([]);
  expect(schedule.lastError).toBeNull();
}, 60_000);

it.each([
  ['skip', 'the next is a firing after it finished'],
  ['bufferOne', 'one firing from during its run waits, then runs'],
] as const)(
  'overlap %s: no robot starts while the previous one runs; %s',
  async (overlap, _what) => {
    const marker = `overlap ${overlap}`;
    const id = `overlap-${overlap.toLowerCase()}`;
    await create({ id, type: 'slow-scheduled', input: { text: marker }, interval: { every: '2s' }, overlap });
    // The robot runs for 6 s, three intervals.
    const [first] = await eventually(async () => {
      const rows = await robotsMarked(system, marker);
      return rows.length > 0 ? rows : undefined;
    });
    const finishedAt = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${first?.robot_id}`);
      return res.body.status === 'completed' ? new Date(res.body.updatedAt).getTime() : undefined;
    }, 30_000);
    const second = await eventually(async () => (await robotsMarked(system, marker))[1]);
    await system.api.post(`/v1/schedules/${id}/pause`).send({});
    const made = await system.sql.query('select created_at from robots where robot_id = $1', [
      second.robot_id,
    ]);
    expect(new Date(made.rows[0].created_at).getTime()).toBeGreaterThanOrEqual(finishedAt);

    const schedule = await scheduleOf(system, id);
    const nominal = (robotId: string | undefined) =>
      new Date(schedule.recentRuns.find((run) => run.robotId === robotId)?.nominalTime ?? NaN).getTime();
    if (overlap === 'skip') {
      // The firings during the run were dropped: the second robot's is one after it (whole seconds).
      expect(nominal(second.robot_id)).toBeGreaterThanOrEqual(finishedAt - 1000);
    } else {
      // The first firing during the run was kept and ran once the robot finished.
      expect(nominal(second.robot_id)).toBeLessThan(nominal(first?.robot_id) + 6000);
    }
    const description = await system.temporal.schedule.getHandle(schedule.temporalScheduleId).describe();
    expect(description.info.numActionsSkippedOverlap).toBeGreaterThan(0);
  },
  60_000,
);

it('a firing run twice (same schedule, same nominal time) names the same robot and makes it once', async () => {
  const marker = 'replayed firing';
  const schedule = await create({
    id: 'replayed',
    type: 'demo',
    input: { text: marker },
    cron: '0 0 1 1 *',
    overlap: 'allowAll',
  });
  const nominal = '2026-01-01T00:00:00.000Z';
  const temporalId = temporalScheduleId(system.config.CONTROL_TASK_QUEUE, 'replayed');
  const args: ScheduledRobotArgs = {
    scheduleId: 'replayed',
    temporalScheduleId: temporalId,
    definition: { ...schedule, input: { text: marker } },
  };
  const results = [];
  for (const attempt of [1, 2]) {
    // As Temporal names a firing's run: the schedule's workflow id and the nominal time.
    const handle = await system.temporal.workflow.start(SCHEDULED_ROBOT_WORKFLOW, {
      workflowId: `${temporalId}-2026-01-01T00:00:00Z`,
      taskQueue: system.config.CONTROL_TASK_QUEUE,
      args: [args],
    });
    results.push({ attempt, ...(await handle.result()) });
  }
  const robotId = scheduledRobotId(temporalId, nominal);
  expect(results).toEqual([
    { attempt: 1, robotId, nominalTime: nominal, created: true },
    { attempt: 2, robotId, nominalTime: nominal, created: false },
  ]);
  expect((await robotsMarked(system, marker)).map((row) => row.robot_id)).toEqual([robotId]);
});

// Last: it replaces the system's control worker.
it('firings while the control worker is down make their robots once it is back, each exactly once', async () => {
  const marker = 'worker restart';
  await create({
    id: 'through-restart',
    type: 'demo',
    input: { text: marker },
    interval: { every: '2s' },
    overlap: 'allowAll',
  });
  await eventually(async () => ((await robotsMarked(system, marker)).length > 0 ? true : undefined));

  system.controlWorker.shutdown();
  await eventually(async () => (system.controlWorker.getState() === 'STOPPED' ? true : undefined));
  const before = (await scheduleOf(system, 'through-restart')).recentRuns.length;
  // Temporal keeps firing: the runs wait on the control queue for a worker.
  await eventually(async () => {
    const current = await scheduleOf(system, 'through-restart');
    return current.recentRuns.length >= before + 2 ? true : undefined;
  }, 20_000);

  const connection = await NativeConnection.connect({ address: system.config.TEMPORAL_ADDRESS });
  let worker: Worker | undefined;
  let done: Promise<void> | undefined;
  try {
    worker = await createControlWorker({
      config: system.config,
      connection,
      client: system.temporal,
      database: system.database,
      cache: system.cache,
      moduleStores: system.moduleStores,
      events: system.events,
      logger: createLogger(system.config, 'test'),
    });
    done = worker.run();
    await system.api.post('/v1/schedules/through-restart/pause').send({});
    const frozen = await settled(system, 'through-restart');
    const times = frozen.recentRuns.map((run) => run.nominalTime ?? '');
    const expected = robotIdsOf(frozen, times).sort();
    const rows = await eventually(async () => {
      const current = await robotsMarked(system, marker);
      return current.length >= expected.length ? current : undefined;
    });
    expect(rows.map((row) => row.robot_id).sort()).toEqual(expected);
    // Every robot runs to its end on the new worker.
    await eventually(async () => {
      const current = await robotsMarked(system, marker);
      return current.every((row) => row.status === 'completed') ? true : undefined;
    }, 30_000);
  } finally {
    worker?.shutdown();
    await done?.catch(() => undefined);
    await connection.close();
  }
}, 90_000);
