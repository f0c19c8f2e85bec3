import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  // One module that runs one step at a time, so robots queue for it.
  system = await startTestSystem({ module: { name: 'single-lane', capacity: 1 } });
});

afterAll(async () => {
  await system?.close();
});

async function create(priority: string): Promise<string> {
  const res = await system.api
    .post('/v1/robots')
    .send({ type: 'noop-pipeline', priority, input: { holdMs: 400 } });
  expect(res.status).toBe(201);
  return res.body.robotId as string;
}

const millis = (time: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

async function firstStepScheduled(robotId: string): Promise<boolean> {
  const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
  return (history.events ?? []).some(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'noop',
  );
}

/** When the robot's first step was put on the module queue and when a worker took it. */
async function firstStepTimes(robotId: string): Promise<{ scheduled: number; started: number }> {
  const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'noop',
  );
  const started = events.find(
    (event) =>
      String(event.activityTaskStartedEventAttributes?.scheduledEventId ?? '') === String(scheduled?.eventId),
  );
  if (!scheduled || !started) throw new Error(`robot ${robotId} never started a step`);
  return { scheduled: millis(scheduled.eventTime), started: millis(started.eventTime) };
}

describe('priorities', () => {
  it('a critical robot is dispatched before a backlog of low ones', async () => {
    const low: string[] = [];
    for (let i = 0; i < 8; i++) low.push(await create('low'));
    // Add the critical one once the backlog has formed: every low robot's first step has been put on
    // the module queue (scheduled in its history), where one lane takes them one at a time.
    await eventually(async () => {
      const queued = await Promise.all(low.map(firstStepScheduled));
      return queued.every(Boolean) ? true : undefined;
    });
    const critical = await create('critical');

    await Promise.all([...low, critical].map((id) => system.temporal.workflow.getHandle(id).result()));
    // The backlog: low steps already queued, not yet taken, when the critical step was queued. In
    // arrival order the critical step would start after every one of them; by priority it overtakes
    // them all but the one or two already on their way to the lane (a poll answered, a task
    // dispatched). Judged by order, not by milliseconds, so a loaded machine does not change it.
    const criticalTimes = await firstStepTimes(critical);
    const lowTimes = await Promise.all(low.map(firstStepTimes));
    const backlog = lowTimes.filter(
      (t) => t.scheduled <= criticalTimes.scheduled && t.started > criticalTimes.scheduled,
    );
    const overtaken = backlog.filter((t) => t.started > criticalTimes.started);
    expect(backlog.length).toBeGreaterThanOrEqual(4);
    expect(overtaken.length).toBeGreaterThanOrEqual(backlog.length - 2);
  }, 90_000);
});
