import type { temporal } from '@temporalio/proto';
import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// lean-steps-v1 (ADR 0046): a completed step's record and the next module step's routing are one
// local activity, and search attributes are upserted only when their value changes.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: { name: 'lean-mod' } });
});

afterAll(async () => {
  await system?.close();
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

async function runToEnd(input: Record<string, unknown>, drive?: (robotId: string) => Promise<void>) {
  const created = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input });
  expect(created.status).toBe(201);
  const robotId = created.body.robotId as string;
  await drive?.(robotId);
  const handle = system.temporal.workflow.getHandle(robotId);
  await handle.result();
  const events = (await handle.fetchHistory()).events ?? [];
  const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
  return { robotId, events, robot };
}

/** The local activities the run called, in order (their markers). */
function localActivities(events: HistoryEvent[]): string[] {
  return events.flatMap((event) => {
    const marker = event.markerRecordedEventAttributes;
    const payload = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0] : null;
    if (!payload?.data) return [];
    return [JSON.parse(Buffer.from(payload.data).toString()).activity_type as string];
  });
}

/** The values each upsert of a search attribute set, in order. */
function upserts(events: HistoryEvent[], name: string): string[] {
  return events.flatMap((event) => {
    const field =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[name];
    return field?.data ? [JSON.parse(Buffer.from(field.data).toString()) as string] : [];
  });
}

async function reach(robotId: string, status: string): Promise<void> {
  await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return res.body.status === status ? true : undefined;
  });
}

describe('a robot of three module steps', () => {
  it('records each step and routes the next in one local activity', async () => {
    const { events, robot } = await runToEnd({});
    expect(localActivities(events)).toEqual([
      'selectModule', // the first step, before the first record
      'recordProgress', // running
      'advanceRobot', // first done, second routed
      'advanceRobot', // second done, third routed
      'recordProgress', // completed, with the third step's outcome
    ]);
    expect(robot.status).toBe('completed');
    expect(robot.progress?.steps.map((step) => [step.name, step.status, step.moduleName])).toEqual([
      ['first', 'completed', 'lean-mod'],
      ['second', 'completed', 'lean-mod'],
      ['third', 'completed', 'lean-mod'],
    ]);
    // Each step's routing decision is kept and explained, as when it was routed on its own.
    expect(robot.routing.map((decision) => [decision.cause, decision.step, decision.winner])).toEqual([
      ['initial', 'first', 'lean-mod'],
      ['initial', 'second', 'lean-mod'],
      ['initial', 'third', 'lean-mod'],
    ]);
  });

  it('upserts a search attribute only when its value changes', async () => {
    const { events } = await runToEnd({});
    expect(upserts(events, 'RobotStatus')).toEqual(['running', 'completed']);
    expect(upserts(events, 'ModuleName')).toEqual(['lean-mod']);
  });

  it('routes a step again when the robot was paused after the previous step chose its module', async () => {
    const { events, robot } = await runToEnd({ holdMs: 1500 }, async (robotId) => {
      await reach(robotId, 'running');
      expect((await system.api.post(`/v1/robots/${robotId}/pause`)).status).toBe(202);
      await reach(robotId, 'paused');
      expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
    });
    expect(robot.status).toBe('completed');
    // Paused after the first step: its advance chose a module for the second, chosen again on resume.
    expect(localActivities(events)).toEqual([
      'selectModule',
      'recordProgress', // running
      'advanceRobot', // first done, second routed
      'recordProgress', // paused
      'recordProgress', // running again
      'selectModule', // the second step, routed again
      'advanceRobot', // second done, third routed
      'recordProgress', // completed
    ]);
    expect(upserts(events, 'RobotStatus')).toEqual(['running', 'paused', 'running', 'completed']);
  }, 60_000);
});
