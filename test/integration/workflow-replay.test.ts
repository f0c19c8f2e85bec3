import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { faultySteps } from '../support/faulty-steps';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Recorded histories of earlier versions must replay on today's workflow code: a change that would
// break running robots fails here (guard it with patched() instead). RECORD_HISTORIES=1 refreshes them.
const fixtures = path.join(__dirname, '..', 'fixtures', 'histories');
const bundle = () => {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath) throw new Error('global setup sets WORKFLOW_BUNDLE_PATH');
  return { workflowBundle: { codePath } };
};

let system: TestSystem;
const steps = faultySteps();

beforeAll(async () => {
  system = await startTestSystem({ module: false, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' } });
  await system.startModule({ name: 'replay-mod' }, steps.activities);
});

afterAll(async () => {
  await system?.close();
});

async function runRobot(
  input: Record<string, unknown>,
  type = 'demo',
  /** Drives the robot while it runs (pause, resume, approve…). */
  drive: (robotId: string) => Promise<void> = async () => undefined,
  /** More fields of the creation body (a deadline). */
  body: Record<string, unknown> = {},
) {
  const created = await system.api.post('/v1/robots').send({ type, input, ...body });
  expect(created.status).toBe(201);
  await drive(created.body.robotId);
  const handle = system.temporal.workflow.getHandle(created.body.robotId);
  await handle.result().catch(() => undefined);
  return eventually(async () =>
    (await handle.describe()).status.name !== 'RUNNING' ? handle.fetchHistory() : undefined,
  );
}

async function reach(robotId: string, status: string) {
  await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return res.body.status === status ? true : undefined;
  });
}

function record(file: string, history: Parameters<typeof historyToJSON>[0]) {
  if (process.env.RECORD_HISTORIES === '1') writeFileSync(path.join(fixtures, file), historyToJSON(history));
}

describe('workflow replay', () => {
  it('replays a fresh completed and failed run deterministically', async () => {
    const completed = await runRobot({ text: 'invoice total due' });
    // demo's steps without its inputSchema: an input without text reaches validate-input and fails there.
    const demo = (await system.api.get('/v1/robot-types/demo')).body;
    const unchecked = await system.api
      .post('/v1/robot-types')
      .send({ name: 'demo-unchecked', description: demo.description, steps: demo.steps });
    expect(unchecked.status).toBe(201);
    const failed = await runRobot({}, 'demo-unchecked');
    await Worker.runReplayHistory(bundle(), completed, 'completed');
    await Worker.runReplayHistory(bundle(), failed, 'failed');
    if (process.env.RECORD_HISTORIES === '1') {
      writeFileSync(path.join(fixtures, 'demo-completed.json'), historyToJSON(completed));
      writeFileSync(path.join(fixtures, 'demo-failed.json'), historyToJSON(failed));
    }
  });

  it('replays a paused-and-resumed and a parked-and-resumed run', async () => {
    const paused = await runRobot({ holdMs: 1000 }, 'noop-pipeline', async (robotId) => {
      await reach(robotId, 'running');
      expect((await system.api.post(`/v1/robots/${robotId}/pause`)).status).toBe(202);
      await reach(robotId, 'paused');
      expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
    });
    steps.fail('replay-park', 'second', 'induced failure');
    const parked = await runRobot({ tag: 'replay-park' }, 'noop-pipeline', async (robotId) => {
      await reach(robotId, 'parked');
      steps.fix('replay-park', 'second');
      expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
    });
    await Worker.runReplayHistory(bundle(), paused, 'paused');
    await Worker.runReplayHistory(bundle(), parked, 'parked');
    record('noop-pause-resume.json', paused);
    record('noop-park-resume.json', parked);
  }, 60_000);

  it('replays an approved run with corrected fields', async () => {
    const approved = await runRobot({ text: 'invoice 5' }, 'approval-demo', async (robotId) => {
      await reach(robotId, 'awaiting_approval');
      const res = await system.api
        .post(`/v1/robots/${robotId}/approve`)
        .send({ fields: { text: 'invoice 5 corrected' }, comment: 'ok' });
      expect(res.status).toBe(202);
    });
    await Worker.runReplayHistory(bundle(), approved, 'approved');
    record('approval-approved.json', approved);
  }, 60_000);

  it('replays a conditional approval (approval-when-v1) with corrections, then a notify step', async () => {
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'replay-review',
      steps: [
        { name: 'first', kind: 'noop' },
        // No step reports a completeness score: the condition holds and the robot waits.
        { name: 'review', kind: 'approval', params: { when: { completenessBelow: 0.5 }, corrects: 'first' } },
        {
          name: 'tell',
          kind: 'notify',
          params: { message: 'reviewed {{previous.first.fields.note.value}}' },
        },
      ],
    });
    expect(registered.status).toBe(201);
    let id = '';
    const reviewed = await runRobot({}, 'replay-review', async (robotId) => {
      id = robotId;
      await reach(robotId, 'awaiting_approval');
      const res = await system.api.post(`/v1/robots/${robotId}/approve`).send({ fields: { note: 'ok' } });
      expect(res.status).toBe(202);
    });
    // The correction reached the step after the review through `corrects`.
    const robot = await system.api.get(`/v1/robots/${id}`);
    expect(robot.body.output.tell).toMatchObject({ message: 'reviewed ok', subscribers: 0 });
    await Worker.runReplayHistory(bundle(), reviewed, 'reviewed');
    record('approval-when-notify.json', reviewed);
  });

  it('replays a run past its SLA deadline, approved by a person', async () => {
    // Default risk share 0.2: at risk after 2.4 s (first step), missed at 3 s (second step).
    const late = await runRobot(
      { holdMs: 2500 },
      'noop-pipeline',
      async (robotId) => {
        await reach(robotId, 'awaiting_approval');
        expect(
          (await system.api.post(`/v1/robots/${robotId}/approve`).send({ comment: 'late' })).status,
        ).toBe(202);
      },
      { sla: '3s' },
    );
    await Worker.runReplayHistory(bundle(), late, 'sla-missed');
    record('sla-missed-approved.json', late);
  }, 60_000);

  it('replays a per-step routed run (per-step-routing-v1) that waited for a module for its second step', async () => {
    // Nobody serves extract until the robot waits for it; then a module serving only extract comes.
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'replay-per-step',
      maxPendingSeconds: 120,
      steps: [
        { name: 'check', kind: 'validate', params: { required: ['text'] } },
        { name: 'read', kind: 'extract' },
        { name: 'summary', kind: 'transform', params: { fields: ['text'] } },
      ],
    });
    expect(registered.status).toBe(201);
    let id = '';
    const routed = await runRobot({ text: 'per step' }, 'replay-per-step', async (robotId) => {
      id = robotId;
      await reach(robotId, 'pending');
      await system.startModule({ name: 'replay-extract' }, { extract: async () => ({ fields: {} }) });
    });
    const robot = (await system.api.get(`/v1/robots/${id}`)).body;
    expect(robot.status).toBe('completed');
    expect(robot.progress.steps.map((step: { moduleName?: string }) => step.moduleName)).toEqual([
      'replay-mod',
      'replay-extract',
      // summary: the previous step's module does not serve transform, so it moves back.
      'replay-mod',
    ]);
    await Worker.runReplayHistory(bundle(), routed, 'per-step');
    record('per-step-routing.json', routed);
  }, 60_000);

  it('replays a run failed by maxPendingSeconds (pending-limit-v1) after a pause during its wait', async () => {
    // Nobody here serves ocr: the robot waits for its first step, is paused and resumed there, then
    // fails at the limit.
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'replay-pending-limit',
      maxPendingSeconds: 3,
      steps: [{ name: 'scan', kind: 'ocr' }],
    });
    expect(registered.status).toBe(201);
    let id = '';
    const limited = await runRobot({}, 'replay-pending-limit', async (robotId) => {
      id = robotId;
      await reach(robotId, 'pending');
      expect((await system.api.post(`/v1/robots/${robotId}/pause`)).status).toBe(202);
      await reach(robotId, 'paused');
      expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
    });
    const robot = (await system.api.get(`/v1/robots/${id}`)).body;
    expect(robot).toMatchObject({
      status: 'failed',
      error: 'no eligible module within 3 s for step scan (kind ocr)',
    });
    await Worker.runReplayHistory(bundle(), limited, 'pending-limit');
    record('pending-limit-failed.json', limited);
  }, 60_000);

  it('replays a lean run (lean-steps-v1): one local activity per step, search attributes on change', async () => {
    const lean = await runRobot({}, 'noop-pipeline');
    await Worker.runReplayHistory(bundle(), lean, 'lean');
    record('lean-steps.json', lean);
  });

  it('replays a maintenance workflow run that took both signals and continued as new', async () => {
    const workflowId = `${system.config.CONTROL_TASK_QUEUE}:replay-maintenance`;
    const handle = await system.temporal.workflow.start('maintenanceWorkflow', {
      workflowId,
      taskQueue: system.config.CONTROL_TASK_QUEUE,
      args: [{ job: 'performance-update', everyMs: 200, iterationsPerRun: 3, iterations: 0 }],
    });
    await handle.signal('configure', { everyMs: 300, iterationsPerRun: 3 });
    await handle.signal('runNow', 'replay');
    const first = system.temporal.workflow.getHandle(workflowId, handle.firstExecutionRunId);
    const history = await eventually(async () =>
      (await first.describe()).status.name === 'CONTINUED_AS_NEW' ? first.fetchHistory() : undefined,
    );
    await system.temporal.workflow.getHandle(workflowId).terminate('replay recorded');
    await Worker.runReplayHistory(bundle(), history, 'maintenance');
    record('maintenance-loop.json', history);
  });

  // Recorded with RECORD_HISTORIES=1 by the tests above, in the format of `temporal workflow show -o json`.
  // collision-*.json are not: they were recorded on the robot workflow as it stood before its split
  // into workflows/robot/ (one inline function), with the control worker stopped while a step ended
  // and an SLA timer fired or an update arrived, then restarted, so both reached the workflow in one
  // task. Their order of commands depends on microtask timing (workflows/robot/flow.ts).
  // Every fixture but per-step-routing.json predates per-step-routing-v1 and is the only replay of the
  // single-choice routing its runs took: record one fixture at a time (RECORD_HISTORIES=1 with
  // `-t '<its test>'`), never the whole file, or those histories are lost.
  const recorded = readdirSync(fixtures).filter((file) => file.endsWith('.json'));

  it('has recorded histories to replay', () => {
    expect(recorded.length).toBeGreaterThanOrEqual(2);
  });

  it.each(recorded)('replays recorded history %s', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(fixtures, file), 'utf8')));
    await expect(Worker.runReplayHistory(bundle(), history, file)).resolves.toBeUndefined();
  });
});
