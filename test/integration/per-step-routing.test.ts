import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { createBasicStepActivities } from '../../activities/basic-steps';
import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Routing per step (per-step-routing-v1): each module step chooses among the modules serving its
// kind, keeping the previous module step's module while it is eligible; a type's maxPendingSeconds
// bounds how long a step waits for a live module. Each describe's modules serve only its own robot
// types, so the describes do not route to each other's modules.

let system: TestSystem;
const basic = createBasicStepActivities();

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    env: {
      // A step nobody picks up fails over after 2 s.
      MODULE_PICKUP_TIMEOUT_SECONDS: '2',
      // Waits of 2 s, so a maxPendingSeconds of 3 shows the last wait cut to the limit.
      MODULE_WAIT_SECONDS: '2',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
    },
  });
});

afterAll(async () => {
  await system?.close();
});

async function register(body: Record<string, unknown>): Promise<void> {
  const res = await system.api.post('/v1/robot-types').send(body);
  expect(res.status).toBe(201);
}

async function create(type: string, input: Record<string, unknown> = {}): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type, input });
  expect(res.status).toBe(201);
  return res.body.robotId as string;
}

async function robot(robotId: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

async function until(robotId: string, check: (view: RobotView) => boolean, timeoutMs = 30_000) {
  return eventually(async () => {
    const view = await robot(robotId);
    return check(view) ? view : undefined;
  }, timeoutMs);
}

const routed = (view: RobotView) =>
  view.routing.map((decision) => [decision.cause, decision.step, decision.winner]);
const stepModules = (view: RobotView) =>
  view.progress?.steps.map((step) => [step.name, step.status, step.moduleName]);

describe('a robot whose steps need different modules', () => {
  it('runs each step on the module serving its kind', async () => {
    await system.startModule(
      { name: 'only-validate', robotTypes: ['split-kinds'] },
      { validate: basic.validate },
    );
    await system.startModule(
      { name: 'only-transform', robotTypes: ['split-kinds'] },
      { transform: basic.transform },
    );
    await register({
      name: 'split-kinds',
      steps: [
        { name: 'check', kind: 'validate', params: { required: ['text'] } },
        { name: 'summary', kind: 'transform', params: { fields: ['text'] } },
      ],
    });

    const robotId = await create('split-kinds', { text: 'two modules' });
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await robot(robotId);

    expect(done).toMatchObject({ status: 'completed', moduleName: 'only-transform', retryCount: 0 });
    expect(Object.keys(done.output ?? {}).sort()).toEqual(['check', 'summary']);
    expect(stepModules(done)).toEqual([
      ['check', 'completed', 'only-validate'],
      ['summary', 'completed', 'only-transform'],
    ]);
    expect(routed(done)).toEqual([
      ['initial', 'check', 'only-validate'],
      ['initial', 'summary', 'only-transform'],
    ]);
    // The second choice says why the robot moved.
    expect(done.routing[1]?.reason).toContain(
      "the previous step's module only-validate is not eligible (missing steps: transform)",
    );
    const row = await system.sql.query('select module_name from robots where robot_id = $1', [robotId]);
    expect(row.rows[0]).toEqual({ module_name: 'only-transform' });
  }, 60_000);
});

describe('two modules serving every kind', () => {
  const better = { successEwma: 1, latencyEwmaMs: 5, samples: 50 };
  const worse = { successEwma: 0.7, latencyEwmaMs: 2000, samples: 50 };
  let pairA: Awaited<ReturnType<TestSystem['startModule']>>;

  beforeAll(async () => {
    pairA = await system.startModule({ name: 'pair-a', robotTypes: ['paired'] }, basic);
    await system.startModule({ name: 'pair-b', robotTypes: ['paired'] }, basic);
    await register({
      name: 'paired',
      steps: [
        { name: 'check', kind: 'validate', params: { required: ['text'] } },
        // Time to change the modules between the first module step and the next.
        { name: 'pause', kind: 'delay', params: { ms: 3000 } },
        { name: 'hold', kind: 'noop' },
        { name: 'summary', kind: 'transform', params: { fields: ['text'] } },
      ],
    });
  });

  /** The first step is recorded done: the robot is in its pause (a delay records only when it ends). */
  async function inPause(robotId: string): Promise<void> {
    await until(robotId, (view) => view.progress?.steps[0]?.status === 'completed', 20_000);
  }

  it('keeps consecutive steps on one module even when another now scores higher', async () => {
    await system.moduleStores.performance.set('pair-a', better);
    await system.moduleStores.performance.set('pair-b', worse);
    const robotId = await create('paired', { text: 'stay together' });
    await inPause(robotId);
    // From here on pair-b is the better module by score.
    await system.moduleStores.performance.set('pair-a', worse);
    await system.moduleStores.performance.set('pair-b', better);

    await system.temporal.workflow.getHandle(robotId).result();
    const done = await robot(robotId);
    expect(done).toMatchObject({ status: 'completed', moduleName: 'pair-a', retryCount: 0 });
    expect(stepModules(done)).toEqual([
      ['check', 'completed', 'pair-a'],
      ['pause', 'completed', undefined],
      ['hold', 'completed', 'pair-a'],
      ['summary', 'completed', 'pair-a'],
    ]);
    expect(routed(done)).toEqual([
      ['initial', 'check', 'pair-a'],
      ['initial', 'hold', 'pair-a'],
      ['initial', 'summary', 'pair-a'],
    ]);
    expect(done.routing[0]?.reason).toMatch(/^highest score/);
    const kept = done.routing[1];
    expect(kept?.reason).toMatch(
      /^kept the previous step's module: score [\d.]+, rank 2 by score of 2 eligible/,
    );
    const b = kept?.candidates.find((candidate) => candidate.moduleName === 'pair-b');
    expect(b?.lostBecause).toMatch(/^the previous step's module pair-a was kept/);
    expect(b?.score).toBeGreaterThan(kept?.candidates[0]?.score ?? 1);
  }, 60_000);

  it('a failover of a later step moves the robot from that step on', async () => {
    await system.moduleStores.performance.set('pair-a', better);
    await system.moduleStores.performance.set('pair-b', worse);
    const robotId = await create('paired', { text: 'fail me over' });
    await inPause(robotId);
    // pair-a stops polling but its replica still looks live (a hung process, or one killed within
    // its TTL): the next step is kept on it and never picked up.
    await pairA.stop();
    await system.moduleStores.state.heartbeat(pairA.replica, 60, Date.now());

    await system.temporal.workflow.getHandle(robotId).result();
    await system.moduleStores.state.removeReplica('pair-a', pairA.replica.replicaId);
    const done = await robot(robotId);
    expect(done).toMatchObject({ status: 'completed', moduleName: 'pair-b', retryCount: 1 });
    expect(stepModules(done)).toEqual([
      ['check', 'completed', 'pair-a'],
      ['pause', 'completed', undefined],
      ['hold', 'completed', 'pair-b'],
      ['summary', 'completed', 'pair-b'],
    ]);
    expect(routed(done)).toEqual([
      ['initial', 'check', 'pair-a'],
      ['initial', 'hold', 'pair-a'],
      ['failover', 'hold', 'pair-b'],
      ['initial', 'summary', 'pair-b'],
    ]);
    expect(done.routing[2]).toMatchObject({ exclude: ['pair-a'] });
    // pair-a scores higher again by now, yet the step after the failover stays where hold ran.
    expect(done.routing[3]?.reason).toMatch(/^kept the previous step's module/);
  }, 60_000);
});

describe('maxPendingSeconds', () => {
  beforeAll(async () => {
    await system.startModule(
      { name: 'validator-only', robotTypes: ['waits-limited', 'waits-forever'] },
      { validate: basic.validate },
    );
    const steps = [
      { name: 'check', kind: 'validate', params: { required: ['text'] } },
      { name: 'post', kind: 'noop' },
    ];
    await register({ name: 'waits-limited', maxPendingSeconds: 3, steps });
    await register({ name: 'waits-forever', steps });
  });

  it('fails a robot whose step no live module served in time, with the reason', async () => {
    const stored = await system.api.get('/v1/robot-types/waits-limited');
    expect(stored.body).toMatchObject({ maxPendingSeconds: 3, version: 1 });

    const robotId = await create('waits-limited', { text: 'nobody posts' });
    const handle = system.temporal.workflow.getHandle(robotId);
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    const reason = 'no eligible module within 3 s for step post (kind noop)';
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'NoModule', message: reason, nonRetryable: true });

    const failed = await until(robotId, (view) => view.status === 'failed');
    expect(failed.error).toBe(reason);
    expect(failed.progress?.reason).toBe(reason);
    expect(stepModules(failed)).toEqual([
      ['check', 'completed', 'validator-only'],
      ['post', 'failed', undefined],
    ]);
    const row = await system.sql.query('select status, error_message from robots where robot_id = $1', [
      robotId,
    ]);
    expect(row.rows[0]).toEqual({ status: 'failed', error_message: reason });

    // Waits of 2 s, the last one cut to what is left of the 3 s; the robot fails when it ends.
    const events = (await handle.fetchHistory()).events ?? [];
    const seconds = (duration: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
      Number(duration?.seconds ?? 0) + (duration?.nanos ?? 0) / 1e9;
    const timers = events.flatMap((event) => {
      const timer = event.timerStartedEventAttributes;
      return timer ? [seconds(timer.startToFireTimeout)] : [];
    });
    expect(timers).toHaveLength(2);
    expect(timers[0]).toBe(2);
    expect(timers[1]).toBeGreaterThan(0.5);
    expect(timers[1]).toBeLessThanOrEqual(1);
    const firstTimer = events.find((event) => event.timerStartedEventAttributes);
    const end = events.find((event) => event.workflowExecutionFailedEventAttributes);
    const waited = seconds(end?.eventTime) - seconds(firstTimer?.eventTime);
    expect(waited).toBeGreaterThanOrEqual(2.5);
    expect(waited).toBeLessThan(4.5);
  }, 60_000);

  it('without it the robot waits pending, and runs once a module comes', async () => {
    const robotId = await create('waits-forever', { text: 'someone posts later' });
    const pending = await until(robotId, (view) => view.status === 'pending');
    expect(pending.progress?.reason).toBe('no eligible module');
    // Well past the other type's limit: still waiting, not failed.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const still = await robot(robotId);
    expect(still.status).toBe('pending');
    expect(stepModules(still)).toEqual([
      ['check', 'completed', 'validator-only'],
      ['post', 'running', undefined],
    ]);

    await system.startModule({ name: 'poster', robotTypes: ['waits-forever'] }, { noop: basic.noop });
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await robot(robotId);
    expect(done).toMatchObject({ status: 'completed', moduleName: 'poster' });
    expect(stepModules(done)).toEqual([
      ['check', 'completed', 'validator-only'],
      ['post', 'completed', 'poster'],
    ]);
    expect(done.routing.map((decision) => [decision.cause, decision.step, decision.winner])).toEqual([
      ['initial', 'check', 'validator-only'],
      ['initial', 'post', null],
      ['wait', 'post', 'poster'],
    ]);
  }, 60_000);
});
