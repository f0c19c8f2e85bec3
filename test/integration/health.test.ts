import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

describe('health endpoints', () => {
  it('liveness answers without touching a dependency', async () => {
    const res = await system.api.get('/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('without a live module the system is degraded: ready (200) but not healthy (503)', async () => {
    const health = await system.api.get('/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('degraded');
    expect(health.body.components.modules).toMatchObject({ status: 'down', live: 0 });
    expect(health.body.components.modules.error).toContain('no module has a live replica');
    for (const name of ['database', 'cache', 'temporal'] as const) {
      expect(health.body.components[name].status).toBe('up');
      expect(typeof health.body.components[name].latencyMs).toBe('number');
    }
    const ready = await system.api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
  });

  it('turns ok once a module replica is live', async () => {
    await system.startModule({ name: 'late-module', robotTypes: ['demo'] });
    const ok = await eventually(async () => {
      const res = await system.api.get('/health');
      return res.status === 200 ? res : undefined;
    }, 15_000);
    expect(ok.body.status).toBe('ok');
    expect(ok.body.components.modules).toMatchObject({ status: 'up', live: 1 });
  });
});
