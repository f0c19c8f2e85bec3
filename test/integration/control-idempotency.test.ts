import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// An approve whose answer was lost (a 503 after the workflow update took effect: seen twice in the
// 10,000-robot soak) is retried with the same Idempotency-Key and gets the first answer, whether
// the robot is still open or has finished since; without the key the retry is a new verdict (409).

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
  const type = await system.api.post('/v1/robot-types').send({
    name: 'approve-then-wait',
    steps: [
      { name: 'review', kind: 'approval' },
      { name: 'settle', kind: 'delay', params: { ms: 4000 } },
    ],
  });
  expect(type.status).toBe(201);
});

afterAll(async () => {
  await system?.close();
});

async function awaitingApproval(type: string): Promise<string> {
  const created = await system.api
    .post('/v1/robots')
    .send({ type, input: { text: 'invoice 7 total 12 EUR' } });
  expect(created.status).toBe(201);
  const robotId: string = created.body.robotId;
  await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return (res.body as RobotView).status === 'awaiting_approval' ? true : undefined;
  });
  return robotId;
}

function approve(robotId: string, key?: string) {
  const request = system.api.post(`/v1/robots/${robotId}/approve`).send({ comment: 'ok' });
  return key ? request.set('Idempotency-Key', key) : request;
}

it('a repeated approve with the same key, robot still open, answers 202 with the first answer', async () => {
  const robotId = await awaitingApproval('approve-then-wait');
  const first = await approve(robotId, 'verdict-1');
  expect(first.status).toBe(202);
  const again = await approve(robotId, 'verdict-1');
  expect({ status: again.status, body: again.body }).toEqual({ status: 202, body: first.body });
  // Another key is another verdict: the robot no longer waits for one.
  const other = await approve(robotId, 'verdict-2');
  expect(other.status).toBe(409);
});

it('a repeated approve with the same key after the robot finished answers 202 with the first answer', async () => {
  const robotId = await awaitingApproval('approval-demo');
  const first = await approve(robotId, 'verdict-3');
  expect(first.status).toBe(202);
  await system.temporal.workflow.getHandle(robotId).result();
  await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return (res.body as RobotView).status === 'completed' ? true : undefined;
  });
  const again = await approve(robotId, 'verdict-3');
  expect({ status: again.status, body: again.body }).toEqual({ status: 202, body: first.body });
  const unkeyed = await approve(robotId);
  expect(unkeyed.status).toBe(409);
});

it('refuses a malformed Idempotency-Key on a control action with 400', async () => {
  const robotId = await awaitingApproval('approve-then-wait');
  const res = await approve(robotId, 'bad key with spaces');
  expect(res.status).toBe(400);
  expect(res.body.errors).toEqual([{ field: 'headers', message: 'must be 1-255 visible ASCII characters' }]);
  expect((await approve(robotId, 'good-key')).status).toBe(202);
});

it('documents the key on the update actions in /openapi.json', async () => {
  const paths = (await system.api.get('/openapi.json')).body.paths;
  const headerOf = (action: string) =>
    (paths[`/v1/robots/{id}/${action}`].post.parameters as { name: string; in: string }[]).find(
      (parameter) => parameter.in === 'header',
    )?.name;
  expect(['pause', 'resume', 'approve', 'reject', 'cancel', 'retry'].map(headerOf)).toEqual([
    'Idempotency-Key',
    'Idempotency-Key',
    'Idempotency-Key',
    'Idempotency-Key',
    undefined,
    undefined,
  ]);
});
