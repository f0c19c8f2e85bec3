import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { describeWhenStatus } from '../support/workflow-state';

let system: TestSystem;

beforeAll(async () => {
  // Short waits: escalation after 1 s, failure 3 s later.
  system = await startTestSystem({ env: { APPROVAL_TIMEOUT: '1s', APPROVAL_ESCALATION_TIMEOUT: '3s' } });
});

afterAll(async () => {
  await system?.close();
});

async function waitForStatus(robotId: string, status: string): Promise<RobotView> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return res.body.status === status ? (res.body as RobotView) : undefined;
  });
}

async function create(): Promise<string> {
  const res = await system.api
    .post('/v1/robots')
    .send({ type: 'approval-demo', input: { text: 'invoice 3' } });
  return res.body.robotId;
}

describe('an approval nobody gives', () => {
  it('escalates after the timeout, then fails with "approval timed out"', async () => {
    const robotId = await create();
    await waitForStatus(robotId, 'awaiting_approval');
    const escalated = await waitForStatus(robotId, 'escalated');
    expect(escalated.progress?.approval).toMatchObject({ step: 'review', escalated: true });
    expect(escalated.progress?.reason).toBe('no decision on step review within 1 s; escalated');
    await describeWhenStatus(system, robotId, 'escalated');
    const execution = (
      await system.sql.query('select step_details from robot_execute where robot_id = $1', [robotId])
    ).rows[0];
    expect(execution.step_details.steps[1]).toMatchObject({
      name: 'review',
      escalatedAt: expect.any(String),
    });
    expect(execution.step_details.approval).toMatchObject({ escalated: true });
    const inbox = await system.api.get('/v1/approvals');
    expect(inbox.body.items.find((item: { robotId: string }) => item.robotId === robotId)).toMatchObject({
      status: 'escalated',
      escalated: true,
    });

    const failed = await waitForStatus(robotId, 'failed');
    expect(failed.error).toBe('approval timed out');
    expect(failed.progress?.steps[1]).toMatchObject({ status: 'failed', escalatedAt: expect.any(String) });
  }, 60_000);

  it('an escalated robot can still be approved', async () => {
    const robotId = await create();
    await waitForStatus(robotId, 'escalated');
    const res = await system.api.post(`/v1/robots/${robotId}/approve`).send({ comment: 'late but fine' });
    expect(res.status).toBe(202);
    const done = await waitForStatus(robotId, 'completed');
    expect(done.output).toMatchObject({
      review: { approved: true, escalated: true, comment: 'late but fine' },
    });
  }, 60_000);
});
