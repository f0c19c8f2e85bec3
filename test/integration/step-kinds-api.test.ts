import request from 'supertest';
import { STEP_KINDS } from '../../core/domain/step-kinds';
import { MODULE_VERSION } from '../../workers/module.worker';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  // No default module: this file starts and stops its own, to see the catalog follow it.
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await system?.close();
});

type Served = { name: string; version: string; live: boolean; replicas: number };
const servedBy = (body: { modules: Served[] }, name: string) =>
  body.modules.find((module) => module.name === name);

describe('step catalog API', () => {
  it('lists every built-in kind with where it runs, its params schema and its secret params', async () => {
    const res = await system.api.get('/v1/step-kinds');
    expect(res.status).toBe(200);
    expect(res.body.items.map((item: { name: string }) => item.name)).toEqual([...STEP_KINDS]);
    const byName = new Map(res.body.items.map((item: { name: string }) => [item.name, item]));

    expect(byName.get('delay')).toMatchObject({ builtIn: true, runsOn: 'workflow', paramsSchema: {} });
    expect(byName.get('approval')).toMatchObject({ runsOn: 'workflow', secretParams: [] });
    expect(byName.get('notify')).toMatchObject({
      runsOn: 'workflow',
      paramsSchema: { type: 'object', required: ['message'], properties: { message: { maxLength: 2000 } } },
    });
    expect(byName.get('validate')).toMatchObject({ runsOn: 'module', paramsSchema: {}, modules: [] });

    const http = byName.get('http-request') as Record<string, unknown>;
    expect(http).toMatchObject({ runsOn: 'module', secretParams: ['headers', 'body', 'form'] });
    expect(http.paramsSchema).toMatchObject({
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'GET' },
        url: { type: 'string', maxLength: 2048 },
        timeoutSeconds: { minimum: 1, maximum: 300 },
      },
    });
  });

  it('shows a running module as serving its kinds and live, and not live once its replica is gone', async () => {
    const module = await system.startModule({ name: 'catalog-mod' });
    let stopped = false;
    try {
      const running = await system.api.get('/v1/step-kinds/validate');
      expect(running.status).toBe(200);
      expect(servedBy(running.body, 'catalog-mod')).toEqual({
        name: 'catalog-mod',
        version: MODULE_VERSION,
        kindVersion: MODULE_VERSION,
        live: true,
        replicas: 1,
        isActive: true,
        draining: false,
      });
      const list = await system.api.get('/v1/step-kinds');
      const transform = list.body.items.find((item: { name: string }) => item.name === 'transform');
      expect(servedBy(transform, 'catalog-mod')?.live).toBe(true);
      // Workflow kinds are never served by a module.
      const delay = list.body.items.find((item: { name: string }) => item.name === 'delay');
      expect(delay.modules).toEqual([]);

      await module.stop();
      stopped = true;
      const after = await system.api.get('/v1/step-kinds/validate');
      expect(after.status).toBe(200);
      // Still registered (so still listed, with its version), but no replica would pick up a step.
      expect(servedBy(after.body, 'catalog-mod')).toMatchObject({
        version: MODULE_VERSION,
        live: false,
        replicas: 0,
      });
    } finally {
      if (!stopped) await module.stop();
    }
  });

  it('answers 404 for an unknown kind', async () => {
    const res = await system.api.get('/v1/step-kinds/ledger.post');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, detail: expect.stringContaining('ledger.post') });
  });

  it('needs modules:read: a robots:read key gets 403, a modules:read key 200', async () => {
    const make = async (scopes: string[]) => {
      const res = await system.api.post('/v1/keys').send({ name: `catalog ${scopes[0]}`, scopes });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    const robotsKey = await make(['robots:read']);
    const refused = await request(system.url)
      .get('/v1/step-kinds')
      .set('authorization', `Bearer ${robotsKey}`);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: '/problems/forbidden', requiredScope: 'modules:read' });

    const modulesKey = await make(['modules:read']);
    const allowed = await request(system.url)
      .get('/v1/step-kinds/http-request')
      .set('authorization', `Bearer ${modulesKey}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body.name).toBe('http-request');
  });
});
