import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  // "fast" has the better record but room for two robots; "slow" has a poor record and room for ten.
  await system.startModule({ name: 'fast', capacity: 2 });
  await system.startModule({ name: 'slow', capacity: 10 });
  await system.moduleStores.performance.set('fast', { successEwma: 1, latencyEwmaMs: 10, samples: 50 });
  await system.moduleStores.performance.set('slow', { successEwma: 0.6, latencyEwmaMs: 3000, samples: 50 });
});

afterAll(async () => {
  await system?.close();
});

async function inFlight(module: string): Promise<number> {
  const res = await system.api.get(`/v1/modules/${module}`);
  return res.body.live.inFlight as number;
}

/** Starts a robot that holds its module for a while, and waits until its step is running there. */
async function startHolding(holdMs: number, expectedOn: string, expectedInFlight: number): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: { holdMs } });
  expect(res.status).toBe(201);
  await eventually(async () => ((await inFlight(expectedOn)) >= expectedInFlight ? true : undefined), 15_000);
  return res.body.robotId as string;
}

async function robot(id: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${id}`)).body as RobotView;
}

describe('score-based routing', () => {
  it('sends robots to the better module until its capacity fills, then spills over', async () => {
    const first = await startHolding(4000, 'fast', 1);
    const second = await startHolding(4000, 'fast', 2);
    const third = await startHolding(4000, 'slow', 1);

    expect((await robot(first)).moduleName).toBe('fast');
    expect((await robot(second)).moduleName).toBe('fast');
    const spilled = await robot(third);
    expect(spilled.moduleName).toBe('slow');

    const decision = spilled.routing[0];
    expect(decision).toMatchObject({ winner: 'slow', cause: 'initial' });
    const fast = decision?.candidates.find((candidate) => candidate.moduleName === 'fast');
    expect(fast).toMatchObject({ eligible: true, rank: 2, factors: { capacity: 0 } });
    expect(fast?.lostBecause).toContain('capacity');
    expect(decision?.reason).toMatch(/^highest score/);

    for (const id of [first, second, third]) await system.temporal.workflow.getHandle(id).result();
    const done = await robot(first);
    expect(done.status).toBe('completed');
    expect(Object.keys(done.output ?? {}).sort()).toEqual(['first', 'second', 'third']);
  }, 60_000);

  it('routes nothing new to a drained module: its running step finishes there, later steps go elsewhere', async () => {
    const running = await startHolding(3000, 'fast', 1);
    const drained = await system.api.post('/v1/modules/fast/drain');
    expect(drained.body.draining).toBe(true);

    const next = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
    await system.temporal.workflow.getHandle(next.body.robotId).result();
    const routed = await robot(next.body.robotId);
    expect(routed.moduleName).toBe('slow');
    const fast = routed.routing[0]?.candidates.find((candidate) => candidate.moduleName === 'fast');
    expect(fast?.ineligibleReasons).toContain('draining');

    // Routed per step, each later step is new work: the drained module no longer keeps the robot.
    await system.temporal.workflow.getHandle(running).result();
    const finished = await robot(running);
    expect(finished).toMatchObject({ status: 'completed', moduleName: 'slow' });
    expect(finished.progress?.steps.map((step) => step.moduleName)).toEqual(['fast', 'slow', 'slow']);
    expect(finished.routing[1]).toMatchObject({ step: 'second', winner: 'slow' });
    expect(finished.routing[1]?.reason).toContain(
      "the previous step's module fast is not eligible (draining)",
    );
    await system.api.post('/v1/modules/fast/resume');
  }, 60_000);

  it('counts how robots spread over modules', async () => {
    const res = await system.api.get('/v1/modules');
    const counts = Object.fromEntries(
      res.body.items.map((module: { name: string; robots: Record<string, number> }) => [
        module.name,
        module.robots,
      ]),
    );
    // By the module of each robot's last step: the robot drained off fast counts for slow.
    expect(counts.fast).toEqual({ completed: 2 });
    expect(counts.slow).toEqual({ completed: 3 });
  });
});
