import { createBasicStepActivities } from '../../activities/basic-steps';
import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    // Long enough that a loaded machine still sees the circuit open between the two tests that need it.
    env: { CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_HALF_OPEN_AFTER_SECONDS: '15' },
  });
  const broken = {
    ...createBasicStepActivities(),
    noop: async () => Promise.reject(new Error('disk on fire')),
  };
  await system.startModule({ name: 'flaky' }, broken);
  await system.startModule({ name: 'steady' });
  // flaky looks best on paper until its failures are counted.
  await system.moduleStores.performance.set('flaky', { successEwma: 1, latencyEwmaMs: 5, samples: 20 });
  await system.moduleStores.performance.set('steady', { successEwma: 0.6, latencyEwmaMs: 3000, samples: 20 });
});

afterAll(async () => {
  await system?.close();
});

async function run(): Promise<RobotView> {
  const created = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
  // A step that failed for good parks its robot (open, waiting for an operator): an outcome too.
  return eventually(async () => {
    const robot = (await system.api.get(`/v1/robots/${created.body.robotId}`)).body as RobotView;
    return ['completed', 'failed', 'parked'].includes(robot.status) ? robot : undefined;
  });
}

describe('per-module circuit breakers', () => {
  it('a first failure parks the robot: one failure does not open the circuit', async () => {
    const robot = await run();
    expect(robot).toMatchObject({ status: 'parked', moduleName: 'flaky' });
    expect(robot.error).toContain('disk on fire');
    const module = (await system.api.get('/v1/modules/flaky')).body;
    expect(module.circuit).toBe('closed');
    expect((await system.api.post(`/v1/robots/${robot.robotId}/cancel`)).status).toBe(202);
  }, 60_000);

  it('the failure that opens the circuit fails the step over to another module', async () => {
    const robot = await run();
    expect(robot).toMatchObject({ status: 'completed', moduleName: 'steady', retryCount: 1 });
    // Routed per step: the later steps keep the module the failed-over step landed on.
    expect(robot.routing.map((decision) => [decision.cause, decision.step, decision.winner])).toEqual([
      ['initial', 'first', 'flaky'],
      ['failover', 'first', 'steady'],
      ['initial', 'second', 'steady'],
      ['initial', 'third', 'steady'],
    ]);
    const module = (await system.api.get('/v1/modules/flaky')).body;
    expect(module.circuit).toBe('open');
  }, 60_000);

  it('an open circuit makes the module ineligible, with the reason in the routing', async () => {
    const robot = await run();
    expect(robot).toMatchObject({ status: 'completed', moduleName: 'steady', retryCount: 0 });
    const flaky = robot.routing[0]?.candidates.find((candidate) => candidate.moduleName === 'flaky');
    expect(flaky?.ineligibleReasons).toContain('circuit open');
  }, 60_000);

  it('after the wait the circuit admits a probe and is reported half-open', async () => {
    const module = await eventually(async () => {
      const body = (await system.api.get('/v1/modules/flaky?robotType=noop-pipeline')).body;
      return body.circuit === 'half-open' ? body : undefined;
    }, 30_000);
    // Eligible again, but its health factor is halved until a probe succeeds.
    expect(module.routing.eligible).toBe(true);
    expect(module.routing.factors.health).toBeLessThanOrEqual(0.5);
  }, 45_000);

  it('a successful probe closes it again', async () => {
    expect(await system.moduleStores.circuits.record('flaky', true)).toBe('closed');
    expect((await system.api.get('/v1/modules/flaky')).body.circuit).toBe('closed');
  });
});
