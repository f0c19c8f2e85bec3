import type { RobotView } from '../../core/domain/robot';
import { RobotStatusKey } from '../../core/domain/search-attributes';
import { faultySteps } from '../support/faulty-steps';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { describeWhenStatus } from '../support/workflow-state';

let system: TestSystem;
const steps = faultySteps();

beforeAll(async () => {
  // Failures here are the steps' own, never the module's: keep its circuit closed.
  system = await startTestSystem({ module: false, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' } });
  await system.startModule({ name: 'control-mod' }, steps.activities);
});

afterAll(async () => {
  await system?.close();
});

async function create(input: Record<string, unknown>): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input });
  expect(res.status).toBe(201);
  return res.body.robotId;
}

async function waitForStatus(robotId: string, status: string, timeoutMs = 30_000): Promise<RobotView> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return res.body.status === status ? (res.body as RobotView) : undefined;
  }, timeoutMs);
}

async function rowOf(robotId: string) {
  return (await system.sql.query('select status, error_message from robots where robot_id = $1', [robotId]))
    .rows[0];
}

/** How many module steps the robot's workflow has scheduled so far (its history). */
async function stepsScheduled(robotId: string): Promise<number> {
  const { events } = await system.temporal.workflow.getHandle(robotId).fetchHistory();
  return (events ?? []).filter(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'noop',
  ).length;
}

const post = (robotId: string, action: string) => system.api.post(`/v1/robots/${robotId}/${action}`);

describe('pause and resume', () => {
  it('pauses between steps and continues on resume', async () => {
    const robotId = await create({ holdMs: 1500 });
    await waitForStatus(robotId, 'running');
    const paused = await post(robotId, 'pause');
    expect(paused.status).toBe(202);
    expect(paused.body).toMatchObject({ robotId, action: 'pause', effect: 'pauses before its next step' });

    // The running step finishes; the next one does not start.
    const robot = await waitForStatus(robotId, 'paused');
    expect(robot.progress?.steps.map((step) => step.status)).toEqual(['completed', 'pending', 'pending']);
    expect(await rowOf(robotId)).toMatchObject({ status: 'paused' });
    await describeWhenStatus(system, robotId, 'paused');

    const again = await post(robotId, 'pause');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/conflict', detail: 'robot is already paused' });
    // That refusal came from the workflow's update validator, in a workflow task after the one that
    // paused: had the pause let the next step through, that task would have scheduled it by now.
    expect(await stepsScheduled(robotId)).toBe(1);
    expect(steps.calls(robotId)).toEqual(['first']);
    expect((await system.api.get(`/v1/robots/${robotId}`)).body.status).toBe('paused');

    const resumed = await post(robotId, 'resume');
    expect(resumed.status).toBe(202);
    expect(resumed.body).toMatchObject({ status: 'running', effect: 'continues with its next step' });
    const done = await waitForStatus(robotId, 'completed');
    expect(done.progress?.stepsCompleted).toBe(3);
  }, 60_000);
});

describe('cancel', () => {
  it('cancels a running robot, which ends cancelled everywhere', async () => {
    const robotId = await create({ holdMs: 20_000 });
    await waitForStatus(robotId, 'running');
    const res = await post(robotId, 'cancel');
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ robotId, action: 'cancel' });

    const robot = await waitForStatus(robotId, 'cancelled');
    expect(robot.error).toBe('cancelled');
    expect(await rowOf(robotId)).toEqual({ status: 'cancelled', error_message: 'cancelled' });
    const description = await eventually(async () => {
      const found = await system.temporal.workflow.getHandle(robotId).describe();
      return found.status.name === 'CANCELLED' ? found : undefined;
    });
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('cancelled');
  }, 60_000);
});

describe('parking a robot whose step failed for good', () => {
  it('parks with the error, and a resume after the fix retries the step and completes', async () => {
    steps.fail('park-1', 'second', 'upstream ledger rejected the entry');
    const robotId = await create({ tag: 'park-1' });
    const parked = await waitForStatus(robotId, 'parked');
    expect(parked.error).toBe('upstream ledger rejected the entry');
    expect(parked.progress?.steps.map((step) => step.status)).toEqual(['completed', 'failed', 'pending']);
    expect(parked.progress?.reason).toContain('parked until resumed');
    expect(await rowOf(robotId)).toEqual({
      status: 'parked',
      error_message: 'upstream ledger rejected the entry',
    });
    const description = await describeWhenStatus(system, robotId, 'parked');
    expect(description.status.name).toBe('RUNNING');
    expect(description.memo).toMatchObject({
      parked: { step: 'second', error: 'upstream ledger rejected the entry' },
    });
    // Three attempts of the activity (its retry policy), then parked: no more calls while parked.
    expect(steps.calls(robotId)).toEqual(['first', 'second', 'second', 'second']);

    const pause = await post(robotId, 'pause');
    expect(pause.status).toBe(409);
    expect(pause.body.detail).toBe('robot is parked; resume it or cancel it');

    steps.fix('park-1', 'second');
    const resumed = await post(robotId, 'resume');
    expect(resumed.status).toBe(202);
    expect(resumed.body).toMatchObject({ status: 'running', effect: 'retries the failed step' });
    const done = await waitForStatus(robotId, 'completed');
    expect(done.error).toBeNull();
    expect(steps.calls(robotId)).toEqual(['first', 'second', 'second', 'second', 'second', 'third']);
    expect(await rowOf(robotId)).toEqual({ status: 'completed', error_message: null });
    // Resuming removes the memo entry.
    expect((await system.temporal.workflow.getHandle(robotId).describe()).memo?.parked).toBeUndefined();
  }, 90_000);
});

describe('actions that do not fit the robot', () => {
  let completedId: string;
  beforeAll(async () => {
    completedId = await create({});
    await waitForStatus(completedId, 'completed');
  });

  it.each([
    ['cancel', 'robot is completed; cancel needs a robot that is still open'],
    ['pause', 'robot is completed; pause needs a robot that is still open'],
    ['resume', 'robot is completed; resume needs a robot that is still open'],
    ['retry', 'robot is completed; only a failed robot can be retried'],
    ['approve', 'robot is completed; approve needs a robot that is still open'],
  ])('%s of a completed robot is 409 and changes nothing', async (action, detail) => {
    const before = await rowOf(completedId);
    const res = await post(completedId, action).send({});
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ type: '/problems/conflict', title: 'Conflict', status: 409, detail });
    expect(await rowOf(completedId)).toEqual(before);
  });

  it('resume of a running robot is 409, and the robot runs on', async () => {
    const robotId = await create({ holdMs: 1500 });
    await waitForStatus(robotId, 'running');
    const res = await post(robotId, 'resume');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: '/problems/conflict',
      detail: 'robot is running; only a paused or parked robot can be resumed',
    });
    await waitForStatus(robotId, 'completed');
  }, 60_000);

  it('approve of a robot that waits for no approval is 409', async () => {
    const robotId = await create({ holdMs: 1500 });
    await waitForStatus(robotId, 'running');
    const res = await post(robotId, 'approve').send({ comment: 'looks fine' });
    expect(res.status).toBe(409);
    expect(res.body.detail).toBe('robot is running, not waiting for approval');
    await waitForStatus(robotId, 'completed');
  }, 60_000);

  it.each(['cancel', 'pause', 'resume', 'retry', 'approve', 'reject'])(
    '%s of an unknown robot is 404',
    async (action) => {
      const res = await post('9b2f6a1e-3c4d-4e5f-8a9b-0c1d2e3f4a5b', action).send({});
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ type: '/problems/not-found', status: 404 });
    },
  );

  it('a bad robot id is 400 naming params.id', async () => {
    const res = await post('not-a-uuid', 'cancel');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ field: 'params.id', message: 'must be a robot id (UUID)' }]);
  });

  it('an approval body with unknown fields is 400 and changes nothing', async () => {
    const before = await rowOf(completedId);
    const res = await post(completedId, 'approve').send({ fields: {}, extra: true });
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('/problems/validation-error');
    expect(res.body.errors[0].field).toBe('body');
    expect(await rowOf(completedId)).toEqual(before);
  });
});

describe('the OpenAPI document', () => {
  it('lists the control routes with their answers', async () => {
    const res = await system.api.get('/openapi.json');
    for (const action of ['cancel', 'pause', 'resume', 'retry', 'approve', 'reject']) {
      const route = res.body.paths[`/v1/robots/{id}/${action}`]?.post;
      expect(Object.keys(route?.responses ?? {})).toEqual([
        '202',
        '400',
        '401',
        '403',
        '404',
        '409',
        '429',
        '503',
      ]);
    }
    const approve =
      res.body.paths['/v1/robots/{id}/approve'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(approve.properties)).toEqual(['fields', 'comment']);
    expect(res.body.components.schemas.Robot.properties.status.enum).toContain('awaiting_approval');
  });
});
