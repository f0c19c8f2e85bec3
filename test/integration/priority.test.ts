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

/** How long the robot's first step waited on the module queue (scheduled -> started). */
async function firstStepWaitMs(robotId: string): Promise<number> {
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
  return millis(started.eventTime) - millis(scheduled.eventTime);
}

describe('priorities', () => {
  it('a critical robot is dispatched before a backlog of low ones', async () => {
    const low: string[] = [];
    for (let i = 0; i < 6; i++) low.push(await create('low'));
    // Add the critical one once the backlog has formed: every low robot's first step has been put on
    // the module queue (scheduled in its history), where one lane takes them one at a time.
    await eventually(async () => {
      const queued = await Promise.all(low.map(firstStepScheduled));
      return queued.every(Boolean) ? true : undefined;
    });
    const critical = await create('critical');

    await Promise.all([...low, critical].map((id) => system.temporal.workflow.getHandle(id).result()));
    // In arrival order the critical step would wait behind every pending low step (seconds); by
    // priority it waits only for the step running now (at most one hold of 400 ms, plus dispatch).
    // Compared with the backlog's own waits rather than a fixed bound: on a loaded machine every wait
    // stretches, but the critical step still overtakes the low steps queued before it.
    const criticalWait = await firstStepWaitMs(critical);
    const lowWaits = await Promise.all(low.map(firstStepWaitMs));
    expect(criticalWait).toBeLessThan(Math.max(...lowWaits) / 2);
    expect(criticalWait).toBeLessThan(3000);
  }, 90_000);
});
