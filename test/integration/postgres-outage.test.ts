import type { temporal } from '@temporalio/proto';
import type { RobotView } from '../../core/domain/robot';
import { TcpProxy } from '../support/tcp-proxy';
import { ADMIN_DATABASE_URL } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The system reaches Postgres through a proxy this test cuts and restores.
const proxy = new TcpProxy(Number(new URL(ADMIN_DATABASE_URL).port || 5432));
let system: TestSystem;

beforeAll(async () => {
  const port = await proxy.start();
  system = await startTestSystem({
    databasePort: port,
    env: { DB_CIRCUIT_FAILURE_THRESHOLD: '2', DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS: '2' },
  });
});

afterAll(async () => {
  await proxy.start().catch(() => undefined);
  await system?.close();
  await proxy.cut();
});

// @temporalio/proto is only a type dependency here (it comes with the client).
const PENDING_ACTIVITY_STATE_STARTED: temporal.api.enums.v1.PendingActivityState = 2;

/** Waits until the robot's first step runs on the module (Temporal lists it as a started activity). */
async function firstStepRunning(robotId: string): Promise<void> {
  const handle = system.temporal.workflow.getHandle(robotId);
  await eventually(async () => {
    const { raw } = await handle.describe();
    const running = (raw.pendingActivities ?? []).some(
      (activity) =>
        activity.activityType?.name === 'noop' && activity.state === PENDING_ACTIVITY_STATE_STARTED,
    );
    return running ? true : undefined;
  }, 20_000);
}

/** Waits until the robot's first step has completed (history; a started event only comes with it). */
async function firstStepCompleted(robotId: string): Promise<void> {
  const handle = system.temporal.workflow.getHandle(robotId);
  await eventually(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'noop',
    );
    const id = String(scheduled?.eventId ?? 'none');
    const completed = events.some(
      (event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === id,
    );
    return completed ? true : undefined;
  }, 20_000);
}

describe('Postgres unavailable', () => {
  let done: string;
  let inFlight: string;

  it('robots run while it is up', async () => {
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'demo', input: { text: 'invoice one' } });
    expect(created.status).toBe(201);
    done = created.body.robotId;
    const result = await system.temporal.workflow.getHandle(done).result();
    expect(result).toMatchObject({ robotId: done, status: 'completed', moduleName: system.moduleName });
    // Written through the proxy: the row and the API agree with the workflow's result.
    const row = await eventually(async () => {
      const rows = await system.sql.query('select status, output_data from robots where robot_id = $1', [
        done,
      ]);
      return rows.rows[0]?.status === 'completed' ? rows.rows[0] : undefined;
    });
    expect(row.output_data).toEqual(result.output);
    const read = await system.api.get(`/v1/robots/${done}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'completed', output: result.output });
  });

  it('while it is down: reads come from the cache or Temporal, writes get 503 with Retry-After, nothing hangs', async () => {
    const running = await system.api
      .post('/v1/robots')
      .send({ type: 'noop-pipeline', input: { holdMs: 1500 } });
    expect(running.status).toBe(201);
    inFlight = running.body.robotId;
    // Cut in the middle of its first step (1.5 s), so that the outage meets a robot in flight.
    await firstStepRunning(inFlight);
    await proxy.cut();

    const cached = await system.api.get(`/v1/robots/${done}`);
    expect(cached.status).toBe(200);
    expect(cached.headers['x-robot-source']).toBe('cache');

    // No cache: the next read must go further. The fast path reads the cache through a connection
    // of its own, which a Redis outage would take down too.
    await system.cache.close().catch(() => undefined);
    system.closeHotPaths();
    const started = Date.now();
    const fromTemporal = await system.api.get(`/v1/robots/${done}`);
    expect(fromTemporal.status).toBe(200);
    expect(fromTemporal.headers['x-robot-source']).toBe('temporal');
    expect(fromTemporal.body.status).toBe('completed');

    const write = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'refused' } });
    expect(write.status).toBe(503);
    expect(write.headers['retry-after']).toBe('2');
    expect(write.body.type).toBe('/problems/service-unavailable');
    const again = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'refused' } });
    expect(again.status).toBe(503);
    const list = await system.api.get('/v1/robots');
    expect(list.status).toBe(503);
    // The open circuit answers at once: four requests well within one connection timeout.
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 60_000);

  it('after recovery the in-flight robot completes and its row matches Temporal exactly', async () => {
    const handle = system.temporal.workflow.getHandle(inFlight);
    // Restore only once the outage has met the robot: its first step finished after the cut, so its
    // next move is to record that in Postgres, which is down (the row still shows no step done).
    await firstStepCompleted(inFlight);
    const stalled = await system.sql.query(
      "select (performance_metrics->>'stepsCompleted')::int as done from robot_execute where robot_id = $1",
      [inFlight],
    );
    expect(stalled.rows.every((row) => !row.done)).toBe(true);
    await proxy.start();
    const result = await handle.result();
    const row = await eventually(async () => {
      const rows = await system.sql.query(
        'select status, output_data, module_name, processing_time_ms from robots where robot_id = $1',
        [inFlight],
      );
      return rows.rows[0]?.status === 'completed' ? rows.rows[0] : undefined;
    });
    expect(row.output_data).toEqual(result.output);
    expect(row.module_name).toBe(result.moduleName);
    expect(row.processing_time_ms).toBe(result.processingTimeMs);

    const created = await eventually(async () => {
      const res = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'back' } });
      return res.status === 201 ? res : undefined;
    }, 20_000);
    await system.temporal.workflow.getHandle(created.body.robotId).result();
    const robot = (await system.api.get(`/v1/robots/${created.body.robotId}`)).body as RobotView;
    expect(robot.status).toBe('completed');
  }, 90_000);
});
