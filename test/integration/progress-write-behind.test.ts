import { randomUUID } from 'node:crypto';
import { createProgressActivities, type ProgressRecord } from '../../activities/progress';
import { createRobotEvents } from '../../core/adapters/redis/robot-events.redis';
import type { RobotProgress } from '../../core/domain/robot';
import { createLogger } from '../../core/observability/logger';
import { cacheWrites } from '../../core/observability/metrics';
import { ExecutionsRepository } from '../../db/executions.repository';
import { RobotsRepository } from '../../db/robots.repository';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// ADR 0046: a running robot's plain records are written behind its workflow; a final record is
// never overtaken by one of them, from this process (the lane is settled first) or another (the
// writes refuse a finished row and an older sequence; in Redis too, ADR 0053).

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

/** One control worker process's progress activities, on the test system's database and Redis. */
function controlProcess() {
  const events = createRobotEvents(system.config);
  const activities = createProgressActivities({
    robots: new RobotsRepository(system.database.db),
    executions: new ExecutionsRepository(system.database.db),
    cache: system.cache,
    moduleStores: system.moduleStores,
    events,
    ewmaAlpha: 0.3,
    logger: createLogger({ ...system.config, LOG_LEVEL: 'silent' }, 'write-behind-test'),
    writeBehind: true,
  });
  return { ...activities, close: () => events.close() };
}

function progressOf(robotId: string, status: RobotProgress['status'], sequence: number): RobotProgress {
  return {
    robotId,
    robotType: 'noop-pipeline',
    status,
    priority: 'normal',
    moduleName: null,
    currentStep: status === 'running' ? 'second' : null,
    stepsCompleted: 0,
    stepsTotal: 3,
    percent: 0,
    steps: [],
    retryCount: 0,
    routing: [],
    sequence,
  };
}

function record(robotId: string, status: RobotProgress['status'], sequence: number): ProgressRecord {
  return {
    executionId: robotId, // a uuid too; one run per robot here
    progress: progressOf(robotId, status, sequence),
    input: {},
    ...(status === 'running'
      ? { stepOutcome: { moduleName: 'wb-mod', ok: true, latencyMs: 5 } }
      : { output: {}, processingTimeMs: 10 }),
  };
}

/** Status writes the cache refused because a newer record was cached (ADR 0053). */
async function staleCacheWrites(): Promise<number> {
  const metric = await cacheWrites.get();
  const stale = metric.values.find(
    (v) => v.labels.family === 'robotStatus' && v.labels.op === 'set' && v.labels.result === 'stale',
  );
  return stale?.value ?? 0;
}

async function stored(robotId: string) {
  const robot = await system.sql.query('select status from robots where robot_id = $1', [robotId]);
  const execution = await system.sql.query(
    `select execution_state, (step_details->>'sequence')::int as sequence from robot_execute where execution_id = $1`,
    [robotId],
  );
  return {
    status: robot.rows[0]?.status,
    state: execution.rows[0]?.execution_state,
    sequence: execution.rows[0]?.sequence,
  };
}

it('writes a running record behind the activity', async () => {
  const robotId = randomUUID();
  const control = controlProcess();
  await control.recordProgress(record(robotId, 'running', 1)); // the first record makes the row
  await control.recordProgress(record(robotId, 'running', 2));
  await eventually(async () => ((await stored(robotId)).sequence === 2 ? true : undefined));
  expect(await stored(robotId)).toEqual({ status: 'running', state: 'running', sequence: 2 });
  await control.close();
});

it('writes a final record after what was queued for the robot, never under it', async () => {
  const robotId = randomUUID();
  const control = controlProcess();
  await control.recordProgress(record(robotId, 'running', 1));
  for (let sequence = 2; sequence <= 6; sequence++)
    await control.recordProgress(record(robotId, 'running', sequence));
  await control.recordProgress(record(robotId, 'completed', 7));
  // Nothing queued is left to land later.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await stored(robotId)).toEqual({ status: 'completed', state: 'completed', sequence: 7 });
  expect((await system.cache.get(robotId))?.status).toBe('completed');
  await control.close();
});

it('does not let another process write an older running record over a finished robot', async () => {
  const robotId = randomUUID();
  const [current, stale] = [controlProcess(), controlProcess()];
  await current.recordProgress(record(robotId, 'running', 1));
  await current.recordProgress(record(robotId, 'completed', 4));
  // A control worker that lost the workflow writes what it had queued, late.
  await stale.recordProgress(record(robotId, 'running', 3));
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(await stored(robotId)).toEqual({ status: 'completed', state: 'completed', sequence: 4 });
  await Promise.all([current.close(), stale.close()]);
});

it('does not let another process write an older running record over a newer one of the run', async () => {
  const robotId = randomUUID();
  const [current, stale] = [controlProcess(), controlProcess()];
  await current.recordProgress(record(robotId, 'running', 1));
  await current.recordProgress(record(robotId, 'running', 5));
  await eventually(async () => ((await stored(robotId)).sequence === 5 ? true : undefined));
  await eventually(async () =>
    (await system.cache.get(robotId))?.progress?.sequence === 5 ? true : undefined,
  );
  const refused = await staleCacheWrites();
  await stale.recordProgress(record(robotId, 'running', 3));
  // The stale lane's write reached Redis (and was refused there): the status cache keeps record 5.
  await eventually(async () => ((await staleCacheWrites()) > refused ? true : undefined), 10_000);
  expect((await stored(robotId)).sequence).toBe(5);
  expect((await system.cache.get(robotId))?.progress?.sequence).toBe(5);
  await Promise.all([current.close(), stale.close()]);
});

it('keeps the newest status in Redis when two processes write one run out of order', async () => {
  const robotId = randomUUID();
  const [current, stale, late] = [controlProcess(), controlProcess(), controlProcess()];
  await current.recordProgress(record(robotId, 'running', 1));
  // Both lanes write at once; whichever lands last in Redis, sequence 9 must be what is cached.
  await Promise.all([
    stale.recordProgress(record(robotId, 'running', 8)),
    current.recordProgress(record(robotId, 'running', 9)),
  ]);
  await eventually(async () => ((await stored(robotId)).sequence === 9 ? true : undefined));
  await eventually(async () =>
    (await system.cache.get(robotId))?.progress?.sequence === 9 ? true : undefined,
  );
  // And record 8 written again by a third process after 9 is cached (a retry, late) is refused.
  const refused = await staleCacheWrites();
  await late.recordProgress(record(robotId, 'running', 8));
  await eventually(async () => ((await staleCacheWrites()) > refused ? true : undefined), 10_000);
  expect((await system.cache.get(robotId))?.progress?.sequence).toBe(9);
  await Promise.all([current.close(), stale.close(), late.close()]);
});
