import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { createBasicStepActivities } from '../../activities/basic-steps';
import type { StepActivities } from '../../activities/types';
import type { RobotView } from '../../core/domain/robot';
import type { StepInput } from '../../core/domain/step-activity.contract';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// A step whose workers go silent on every attempt Temporal makes (killed one after another, as the
// module-kill chaos scenario does) is an outage, not the step's failure: the robot fails over and
// completes instead of parking (ADR 0036, patch worker-lost-failover-v1).

let system: TestSystem;
/** Attempts of step `first` that go silent, per robot: no heartbeat, no answer in time. */
const silentAttempts = new Map<string, number>();

function silentSteps(): Partial<StepActivities> {
  const base = createBasicStepActivities();
  return {
    ...base,
    async noop(input: StepInput) {
      const left = silentAttempts.get(input.robotId) ?? 0;
      if (input.step.name === 'first' && left > 0) {
        silentAttempts.set(input.robotId, left - 1);
        await sleep(4000); // longer than the heartbeat timeout, without a heartbeat: a dead worker
      }
      return base.noop(input);
    },
  };
}

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    env: {
      STEP_HEARTBEAT_TIMEOUT_SECONDS: '1',
      CIRCUIT_FAILURE_THRESHOLD: '1000',
      ROBOT_PARK_TIMEOUT: '60s',
    },
  });
  await system.startModule({ name: 'lost-mod', capacity: 10 }, silentSteps());
});

afterAll(async () => {
  await system?.close();
});

it('a step whose worker is lost on all three attempts fails over and the robot completes, not parks', async () => {
  const created = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
  expect(created.status).toBe(201);
  const robotId: string = created.body.robotId;
  // Three attempts: the step's whole Temporal retry policy (maximumAttempts 3).
  silentAttempts.set(robotId, 3);

  // Before the patch the robot parked here (status parked, "activity Heartbeat timeout").
  const robot = await eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return ['completed', 'parked', 'failed'].includes(res.body.status) ? (res.body as RobotView) : undefined;
  }, 45_000);
  expect([robot.status, robot.error ?? null]).toEqual(['completed', null]);
  const handle = system.temporal.workflow.getHandle(robotId);
  await handle.result();
  // The replay test's fixture of this path (RECORD_HISTORIES=1 refreshes it).
  if (process.env.RECORD_HISTORIES === '1') {
    const fixture = path.join(__dirname, '..', 'fixtures', 'histories', 'worker-lost-failover.json');
    writeFileSync(fixture, historyToJSON(await handle.fetchHistory()));
  }
  expect(silentAttempts.get(robotId)).toBe(0);
  expect(robot.retryCount).toBe(1);
  expect(robot.routing.map((decision) => [decision.cause, decision.step])).toContainEqual([
    'failover',
    'first',
  ]);
  expect(robot.progress?.steps.map((step) => [step.name, step.status])).toEqual([
    ['first', 'completed'],
    ['second', 'completed'],
    ['third', 'completed'],
  ]);
}, 60_000);
