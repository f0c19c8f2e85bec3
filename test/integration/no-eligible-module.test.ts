import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let system: TestSystem;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // Only a module for another robot type: nothing can run a demo robot yet.
  system = await startTestSystem({
    module: { name: 'other-work', robotTypes: ['invoice-intake'] },
    env: { NOTIFY_ALLOWED_HOSTS: '127.0.0.1' },
  });
});

afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

async function robot(robotId: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

async function until(robotId: string, check: (view: RobotView) => boolean, timeoutMs = 30_000) {
  return eventually(async () => {
    const view = await robot(robotId);
    return check(view) ? view : undefined;
  }, timeoutMs);
}

async function create(type: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type, input: {}, ...body });
  expect(res.status).toBe(201);
  return res.body.robotId as string;
}

/** Seconds of a history event's time. */
const seconds = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(time?.seconds ?? 0) + (time?.nanos ?? 0) / 1e9;

async function history(robotId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await system.temporal.workflow.getHandle(robotId).fetchHistory()).events ?? [];
}

/** Patch ids recorded as markers in a run's history. */
function patches(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((event) =>
    Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((payloads) =>
      (payloads.payloads ?? []).map((payload) => Buffer.from(payload.data ?? []).toString()),
    ),
  );
}

const stepStates = (view: RobotView) => view.progress?.steps.map((step) => [step.name, step.status]);

describe('maxPendingSeconds (pending-limit-v1)', () => {
  // Each type's step is served only by modules naming the type, or any type: other-work does not,
  // and the describe after this one starts one for any type, so this one runs first.
  const steps = [{ name: 'post', kind: 'noop' }];

  beforeAll(async () => {
    for (const [name, limit] of [
      ['limited-2s', 2],
      ['limited-20s', 20],
      ['limited-6s', 6],
    ] as const) {
      const res = await system.api.post('/v1/robot-types').send({ name, maxPendingSeconds: limit, steps });
      expect(res.status).toBe(201);
    }
    const unlimited = await system.api.post('/v1/robot-types').send({ name: 'unlimited', steps });
    expect(unlimited.status).toBe(201);
  });

  it('fails a robot no module takes within the limit, with the reason, as other failures fail', async () => {
    const subscription = await system.api
      .post('/v1/notifications/subscriptions')
      .send({ url: receiver.url, events: ['robot.failed', 'robot.sla_at_risk', 'robot.sla_missed'] });
    expect(subscription.status).toBe(201);
    const started = Date.now();
    const robotId = await create('limited-2s', { sla: '1h' });
    const handle = system.temporal.workflow.getHandle(robotId);
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    const reason = 'no eligible module within 2 s for step post (kind noop)';
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: 'NoModule', message: reason, nonRetryable: true });
    // Bounded: the limit, plus the create and the last ask, on a busy machine.
    expect(Date.now() - started).toBeLessThan(15_000);

    const failed = await until(robotId, (view) => view.status === 'failed');
    expect(failed).toMatchObject({ error: reason, moduleName: null });
    expect(failed.progress?.reason).toBe(reason);
    // The robot's first step is routed before it starts: it is the step that failed.
    expect(failed.progress?.steps).toMatchObject([{ name: 'post', status: 'failed', error: reason }]);
    // Its SLA is neither met nor missed: the timers end with the run, as for any failure.
    expect(failed.sla?.state).toBe('on_track');
    const row = await system.sql.query('select status, error_message from robots where robot_id = $1', [
      robotId,
    ]);
    expect(row.rows).toEqual([{ status: 'failed', error_message: reason }]);

    // Subscribers hear of it as of any failed robot, with the reason; nothing about its SLA.
    const hooks = await eventually(async () => {
      const mine = receiver.received
        .map((hook) => JSON.parse(hook.body) as { event: string; data: Record<string, unknown> })
        .filter((hook) => hook.data.robotId === robotId);
      return mine.length > 0 ? mine : undefined;
    });
    expect(hooks.map((hook) => hook.event)).toEqual(['robot.failed']);
    expect(hooks[0]?.data).toMatchObject({ status: 'failed', error: reason });

    // The wait counts from the step's first ask: 1 s intervals (MODULE_WAIT_SECONDS), the robot
    // fails after the ask at the limit.
    const events = await history(robotId);
    expect(patches(events).join(' ')).toContain('pending-limit-v1');
    // Its SLA's timers (an hour away) aside.
    const timers = events.filter(
      (event) => seconds(event.timerStartedEventAttributes?.startToFireTimeout ?? { seconds: 3600 }) < 60,
    );
    const lengths = timers.map((event) => seconds(event.timerStartedEventAttributes?.startToFireTimeout));
    // The second wait is cut to end at the limit.
    expect(lengths).toHaveLength(2);
    expect(lengths[0]).toBe(1);
    expect(lengths[1]).toBeGreaterThan(0);
    expect(lengths[1]).toBeLessThanOrEqual(1);
    const end = events.find((event) => event.workflowExecutionFailedEventAttributes);
    const waited = seconds(end?.eventTime) - seconds(timers[0]?.eventTime);
    expect(waited).toBeGreaterThanOrEqual(1.5);
    expect(waited).toBeLessThan(6);

    // Once a module serves the type, a retry runs again from the step that waited.
    await system.startModule({ name: 'late-poster', robotTypes: ['limited-2s'] });
    const retry = await system.api.post(`/v1/robots/${robotId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body.effect).toBe('runs again from step post');
    const done = await until(robotId, (view) => view.status === 'completed');
    expect(done).toMatchObject({ moduleName: 'late-poster', error: null });
  }, 60_000);

  it('a robot already waiting proceeds normally when a module comes within the limit', async () => {
    const robotId = await create('limited-20s');
    const pending = await until(robotId, (view) => view.status === 'pending');
    expect(pending.progress?.reason).toBe('no eligible module');
    await system.startModule({ name: 'limited-poster', robotTypes: ['limited-20s'] });
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await robot(robotId);
    expect(done).toMatchObject({ status: 'completed', moduleName: 'limited-poster', error: null });
    expect(stepStates(done)).toEqual([['post', 'completed']]);
  }, 60_000);

  it('without it a robot is still pending well after such a limit would have passed', async () => {
    const robotId = await create('unlimited');
    await until(robotId, (view) => view.status === 'pending');
    // Three times the other types' 2 s limit.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const still = await robot(robotId);
    expect(still.status).toBe('pending');
    expect(still.progress?.reason).toBe('no eligible module');
    expect(stepStates(still)).toEqual([['post', 'pending']]);
    await system.temporal.workflow.getHandle(robotId).cancel();
    await until(robotId, (view) => view.status === 'cancelled');
  }, 60_000);

  it('pauses a waiting robot at once, and the paused time does not count', async () => {
    const robotId = await create('limited-6s');
    await until(robotId, (view) => view.status === 'pending');
    const pause = await system.api.post(`/v1/robots/${robotId}/pause`);
    expect(pause.status).toBe(202);
    expect(pause.body.effect).toBe('pauses now: it was waiting for a module');
    const paused = await until(robotId, (view) => view.status === 'paused');
    expect(paused.progress?.reason).toBe('paused by an operator');
    // Paused longer than the whole limit: it is not failed for it.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect((await robot(robotId)).status).toBe('paused');
    const resume = await system.api.post(`/v1/robots/${robotId}/resume`);
    expect(resume.status).toBe(202);
    expect(resume.body.effect).toBe('waits for a module again, then runs its step');
    const waiting = await until(robotId, (view) => view.status === 'pending');
    expect(waiting.progress?.reason).toBe('no eligible module');

    // The limit still applies to the waiting time before and after the pause.
    const failure = await system.temporal.workflow
      .getHandle(robotId)
      .result()
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect((failure as WorkflowFailedError).cause).toMatchObject({
      type: 'NoModule',
      message: 'no eligible module within 6 s for step post (kind noop)',
    });
    const events = await history(robotId);
    const firstTimer = events.find((event) => event.timerStartedEventAttributes);
    const end = events.find((event) => event.workflowExecutionFailedEventAttributes);
    // 6 s of waiting (less the first pending record) plus 8 s or more paused.
    expect(seconds(end?.eventTime) - seconds(firstTimer?.eventTime)).toBeGreaterThanOrEqual(13.5);
  }, 90_000);
});

describe('a robot with no eligible module', () => {
  it('waits as pending with the reason, then runs when a module appears', async () => {
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'demo', input: { text: 'wait for me' } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;

    const pending = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${robotId}`);
      return res.body.status === 'pending' ? (res.body as RobotView) : undefined;
    });
    expect(pending.progress?.reason).toBe('no eligible module');
    expect(pending.moduleName).toBeNull();

    await system.startModule({ name: 'demo-capable', robotTypes: ['demo'] });

    const done = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${robotId}`);
      return res.body.status === 'completed' ? (res.body as RobotView) : undefined;
    });
    expect(done.moduleName).toBe('demo-capable');
  });

  it('prefers a module that names the type over one that takes any type', async () => {
    await system.startModule({ name: 'aaa-generic', robotTypes: [] });
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'route me' } });
    await system.temporal.workflow.getHandle(created.body.robotId).result();
    const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
    expect(res.body.moduleName).toBe('demo-capable');
  });
});
