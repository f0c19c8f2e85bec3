import type { RobotView } from '../../core/domain/robot';
import { RobotStatusKey } from '../../core/domain/search-attributes';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { describeWhenStatus } from '../support/workflow-state';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

async function create(text: string): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type: 'approval-demo', input: { text } });
  expect(res.status).toBe(201);
  return res.body.robotId;
}

async function waitForStatus(robotId: string, status: string): Promise<RobotView> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return res.body.status === status ? (res.body as RobotView) : undefined;
  });
}

async function rowOf(robotId: string) {
  return (
    await system.sql.query('select status, error_message, input_data from robots where robot_id = $1', [
      robotId,
    ])
  ).rows[0];
}

describe('an approval step', () => {
  it('waits as awaiting_approval, listed in the approvals inbox with the data to review', async () => {
    const robotId = await create('invoice 12 total 40 EUR');
    const waiting = await waitForStatus(robotId, 'awaiting_approval');
    expect(waiting.progress?.steps.map((step) => step.status)).toEqual(['completed', 'running', 'pending']);
    expect(waiting.progress?.approval).toMatchObject({ step: 'review', escalated: false });
    expect((await rowOf(robotId)).status).toBe('awaiting_approval');
    await describeWhenStatus(system, robotId, 'awaiting_approval');

    const inbox = await system.api.get('/v1/approvals');
    expect(inbox.status).toBe(200);
    const item = inbox.body.items.find((entry: { robotId: string }) => entry.robotId === robotId);
    expect(item).toMatchObject({
      robotId,
      type: 'approval-demo',
      status: 'awaiting_approval',
      step: 'review',
      escalated: false,
      data: {
        input: { text: 'invoice 12 total 40 EUR' },
        outputs: { 'validate-input': { valid: true } },
      },
      links: { approve: `/v1/robots/${robotId}/approve`, reject: `/v1/robots/${robotId}/reject` },
    });
    // Default APPROVAL_TIMEOUT: 24 h from when it started waiting.
    expect(Date.parse(item.deadline) - Date.parse(item.waitingSince)).toBe(86_400_000);

    const approved = await system.api
      .post(`/v1/robots/${robotId}/approve`)
      .send({ fields: { text: 'invoice 12 total 45 EUR corrected' }, comment: 'amount fixed' });
    expect(approved.status).toBe(202);
    expect(approved.body).toMatchObject({ robotId, action: 'approve', status: 'running' });

    const done = await waitForStatus(robotId, 'completed');
    expect(done.output).toMatchObject({
      review: {
        approved: true,
        escalated: false,
        fields: { text: 'invoice 12 total 45 EUR corrected' },
        comment: 'amount fixed',
      },
      // Later steps work on the corrected data.
      summarize: { summary: 'invoice 12 total 45 EUR corrected', wordCount: 6 },
    });
    // The input as submitted is kept; the corrections are in the output.
    expect((await rowOf(robotId)).input_data).toEqual({ text: 'invoice 12 total 40 EUR' });
    const after = await system.api.get('/v1/approvals');
    expect(after.body.items.map((entry: { robotId: string }) => entry.robotId)).not.toContain(robotId);
  }, 60_000);

  it('a second verdict after the first is 409', async () => {
    const robotId = await create('order 7');
    await waitForStatus(robotId, 'awaiting_approval');
    expect((await system.api.post(`/v1/robots/${robotId}/approve`).send({})).status).toBe(202);
    await waitForStatus(robotId, 'completed');
    const again = await system.api.post(`/v1/robots/${robotId}/reject`).send({ comment: 'late' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/conflict', robotStatus: 'completed' });
  }, 60_000);

  it('reject fails the robot with the reason given', async () => {
    const robotId = await create('complaint about a broken chair');
    await waitForStatus(robotId, 'awaiting_approval');
    const rejected = await system.api
      .post(`/v1/robots/${robotId}/reject`)
      .send({ comment: 'duplicate of ticket 881' });
    expect(rejected.status).toBe(202);
    expect(rejected.body).toMatchObject({ action: 'reject', status: 'failed' });

    const failed = await waitForStatus(robotId, 'failed');
    expect(failed.error).toBe('rejected: duplicate of ticket 881');
    expect(failed.progress?.steps.map((step) => step.status)).toEqual(['completed', 'failed', 'pending']);
    expect(await rowOf(robotId)).toMatchObject({
      status: 'failed',
      error_message: 'rejected: duplicate of ticket 881',
    });
    const description = await eventually(async () => {
      const found = await system.temporal.workflow.getHandle(robotId).describe();
      return found.status.name === 'FAILED' ? found : undefined;
    });
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('failed');
  }, 60_000);

  it('bad verdicts are 400 and leave the robot waiting', async () => {
    const robotId = await create('order 9');
    await waitForStatus(robotId, 'awaiting_approval');
    const notObject = await system.api.post(`/v1/robots/${robotId}/approve`).send({ fields: ['text'] });
    expect(notObject.status).toBe(400);
    expect(notObject.body).toMatchObject({ type: '/problems/validation-error' });
    expect(notObject.body.errors[0].field).toBe('body.fields');
    const longComment = await system.api
      .post(`/v1/robots/${robotId}/reject`)
      .send({ comment: 'x'.repeat(2001) });
    expect(longComment.status).toBe(400);
    expect(longComment.body.errors[0].field).toBe('body.comment');
    const notJson = await system.api
      .post(`/v1/robots/${robotId}/approve`)
      .set('content-type', 'text/plain')
      .send('yes');
    expect(notJson.status).toBe(415);
    expect((await system.api.get(`/v1/robots/${robotId}`)).body.status).toBe('awaiting_approval');
    await system.api.post(`/v1/robots/${robotId}/cancel`).expect(202);
    await waitForStatus(robotId, 'cancelled');
  }, 60_000);

  it('pages the inbox with a cursor', async () => {
    const ids = [await create('page one'), await create('page two'), await create('page three')];
    await Promise.all(ids.map((id) => waitForStatus(id, 'awaiting_approval')));
    const first = await system.api.get('/v1/approvals?limit=2');
    expect(first.body.items.map((item: { robotId: string }) => item.robotId)).toEqual([ids[2], ids[1]]);
    const second = await system.api.get(`/v1/approvals?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((item: { robotId: string }) => item.robotId)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    const documented = (await system.api.get('/openapi.json')).body.paths['/v1/approvals'].get;
    expect(documented.parameters.map((p: { name: string }) => p.name)).toEqual(['limit', 'cursor']);
    const bad = await system.api.get('/v1/approvals?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('query.limit');
    await Promise.all(ids.map((id) => system.api.post(`/v1/robots/${id}/cancel`).expect(202)));
  }, 60_000);
});
