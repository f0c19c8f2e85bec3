import type { RobotView } from '../../core/domain/robot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  // Only a module for another robot type: nothing can run a demo robot yet.
  system = await startTestSystem({ module: { name: 'other-work', robotTypes: ['invoice-intake'] } });
});

afterAll(async () => {
  await system?.close();
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
