import type { RobotView } from '../../core/domain/robot';
import { RobotStatusKey } from '../../core/domain/search-attributes';
import { faultySteps } from '../support/faulty-steps';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const steps = faultySteps();

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    // A short park: an unattended parked robot fails within the test.
    env: { CIRCUIT_FAILURE_THRESHOLD: '1000', ROBOT_PARK_TIMEOUT: '2s' },
  });
  await system.startModule({ name: 'retry-mod' }, steps.activities);
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

async function closed(robotId: string) {
  return eventually(async () => {
    const description = await system.temporal.workflow.getHandle(robotId).describe();
    return description.status.name !== 'RUNNING' ? description : undefined;
  });
}

describe('a parked robot nobody resumes', () => {
  let robotId: string;

  it('fails when the park timeout passes, with the step error', async () => {
    steps.fail('retry-1', 'third', 'archive share offline');
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'noop-pipeline', input: { tag: 'retry-1' } });
    robotId = created.body.robotId;
    await waitForStatus(robotId, 'parked');

    const failed = await waitForStatus(robotId, 'failed');
    expect(failed.error).toBe('parked 2 s without resume; step third failed: archive share offline');
    expect(failed.progress?.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'failed']);
    const description = await closed(robotId);
    expect(description.status.name).toBe('FAILED');
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('failed');
    const execution = (
      await system.sql.query('select step_details from robot_execute where robot_id = $1', [robotId])
    ).rows[0];
    expect(Object.keys(execution.step_details.outputs).sort()).toEqual(['first', 'second']);
  }, 60_000);

  it('retry after the fix runs a new run from the failed step, with the earlier outputs', async () => {
    const firstRunId = (await system.temporal.workflow.getHandle(robotId).describe()).runId;
    steps.fix('retry-1', 'third');
    const res = await system.api.post(`/v1/robots/${robotId}/retry`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      robotId,
      action: 'retry',
      status: 'queued',
      effect: 'runs again from step third',
      runId: expect.any(String),
    });
    expect(res.body.runId).not.toBe(firstRunId);

    const done = await waitForStatus(robotId, 'completed');
    expect(done.error).toBeNull();
    // jsonb keeps its own key order: compare as sets.
    expect(Object.keys(done.output ?? {}).sort()).toEqual(['first', 'second', 'third']);
    expect(done.progress?.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'completed']);
    // first and second ran once (in the failed run); third three times there, once in the retry.
    expect(steps.calls(robotId)).toEqual(['first', 'second', 'third', 'third', 'third', 'third']);

    const description = await closed(robotId);
    expect(description.runId).toBe(res.body.runId);
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(RobotStatusKey)).toBe('completed');
    const executions = (
      await system.sql.query(
        'select execution_state from robot_execute where robot_id = $1 order by started_at',
        [robotId],
      )
    ).rows;
    expect(executions.map((row) => row.execution_state)).toEqual(['failed', 'completed']);
  }, 60_000);

  it('a second retry of the now completed robot is 409 and starts nothing', async () => {
    const before = (await system.temporal.workflow.getHandle(robotId).describe()).runId;
    const res = await system.api.post(`/v1/robots/${robotId}/retry`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: '/problems/conflict',
      detail: 'robot is completed; only a failed robot can be retried',
      robotStatus: 'completed',
    });
    expect((await system.temporal.workflow.getHandle(robotId).describe()).runId).toBe(before);
  });
});

describe('retry of a robot that failed on its input', () => {
  it('re-runs the failing step with the same input: a step that rejects it fails again', async () => {
    // A type without an inputSchema: the input reaches its validate step, which refuses it.
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'unchecked-input',
      steps: [{ name: 'validate-input', kind: 'validate', params: { required: ['text'] } }],
    });
    expect(registered.status).toBe(201);
    const created = await system.api.post('/v1/robots').send({ type: 'unchecked-input', input: {} });
    const robotId = created.body.robotId;
    await waitForStatus(robotId, 'failed');
    await closed(robotId);
    const res = await system.api.post(`/v1/robots/${robotId}/retry`);
    expect(res.status).toBe(202);
    expect(res.body.effect).toBe('runs again from step validate-input');
    const failed = await eventually(async () => {
      const description = await system.temporal.workflow.getHandle(robotId).describe();
      return description.runId === res.body.runId && description.status.name === 'FAILED' ? true : undefined;
    });
    expect(failed).toBe(true);
    expect((await waitForStatus(robotId, 'failed')).error).toBe('missing required input field(s): text');
  }, 60_000);
});
