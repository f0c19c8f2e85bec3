import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

const external = {
  name: 'ext-ocr',
  version: '1.2.0',
  supportedRobotTypes: ['demo'],
  supportedSteps: ['validate', 'classify'],
  capacity: 4,
};

describe('module registry API', () => {
  it('lists the worker-registered module with live replicas and capacity', async () => {
    const res = await system.api.get('/v1/modules');
    expect(res.status).toBe(200);
    const module = res.body.items.find((item: { name: string }) => item.name === system.moduleName);
    expect(module).toMatchObject({
      isActive: true,
      draining: false,
      healthStatus: 'healthy',
      supportedRobotTypes: ['*'],
      taskQueue: `module-${system.moduleName}`,
      live: { replicas: 1, capacity: 5, inFlight: 0, utilisation: 0 },
      circuit: 'closed',
    });
    expect(module.supportedSteps).toEqual(
      expect.arrayContaining(['validate', 'classify', 'transform', 'noop']),
    );
  });

  it('registers an external module (201), re-registers it (200), and takes its heartbeats', async () => {
    const first = await system.api.post('/v1/modules').send(external);
    expect(first.status).toBe(201);
    expect(first.headers.location).toBe('/v1/modules/ext-ocr');
    expect(first.body).toMatchObject({ name: 'ext-ocr', version: '1.2.0', live: { replicas: 0 } });

    const again = await system.api.post('/v1/modules').send({ ...external, version: '1.3.0' });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe('1.3.0');

    const beat = await system.api
      .post('/v1/modules/ext-ocr/heartbeat')
      .send({ replicaId: 'r-1', capacity: 4 });
    expect(beat.status).toBe(200);
    expect(beat.body.live).toMatchObject({ replicas: 1, capacity: 4 });
  });

  it('shows how each module scores for a robot type', async () => {
    const res = await system.api.get('/v1/modules?robotType=demo');
    const ext = res.body.items.find((item: { name: string }) => item.name === 'ext-ocr');
    const own = res.body.items.find((item: { name: string }) => item.name === system.moduleName);
    expect(own.routing).toMatchObject({
      eligible: true,
      factors: { typeMatch: 0.5, capacity: 1, health: 1 },
    });
    // ext-ocr lacks the transform step of the demo pipeline.
    expect(ext.routing.eligible).toBe(false);
    expect(ext.routing.ineligibleReasons).toContain('missing steps: transform');
  });

  it('drains, resumes and deactivates', async () => {
    const drained = await system.api.post('/v1/modules/ext-ocr/drain');
    expect(drained.body.draining).toBe(true);
    const resumed = await system.api.post('/v1/modules/ext-ocr/resume');
    expect(resumed.body.draining).toBe(false);
    const deleted = await system.api.delete('/v1/modules/ext-ocr');
    expect(deleted.status).toBe(200);
    expect(deleted.body.isActive).toBe(false);
    const row = await system.sql.query('select is_active from module_registry where module_name = $1', [
      'ext-ocr',
    ]);
    expect(row.rows[0].is_active).toBe(false);
  });

  it.each([
    [
      'an unknown step',
      { ...external, name: 'bad-a', supportedSteps: ['teleport'] },
      400,
      'body.supportedSteps',
    ],
    ['capacity 0', { ...external, name: 'bad-b', capacity: 0 }, 400, 'body.capacity'],
    ['capacity -3', { ...external, name: 'bad-c', capacity: -3 }, 400, 'body.capacity'],
    ['a bad name', { ...external, name: 'Bad Name' }, 400, 'body.name'],
    ['a bad version', { ...external, name: 'bad-d', version: 'latest' }, 400, 'body.version'],
    [
      'no robot types',
      { ...external, name: 'bad-e', supportedRobotTypes: [] },
      400,
      'body.supportedRobotTypes',
    ],
    ['an unknown field', { ...external, name: 'bad-f', colour: 'red' }, 400, 'body'],
  ])('refuses %s with the field', async (_name, body, status, field) => {
    const res = await system.api.post('/v1/modules').send(body);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('refuses a new major version under a registered name with 409', async () => {
    const res = await system.api.post('/v1/modules').send({ ...external, version: '2.0.0' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: '/problems/conflict', registeredVersion: '1.3.0' });
  });

  it('answers 404 for an unknown module and 400 for an unknown robot type filter', async () => {
    expect((await system.api.get('/v1/modules/nope')).status).toBe(404);
    expect((await system.api.post('/v1/modules/nope/drain')).status).toBe(404);
    expect(
      (await system.api.post('/v1/modules/nope/heartbeat').send({ replicaId: 'x', capacity: 1 })).status,
    ).toBe(404);
    const res = await system.api.get('/v1/modules?robotType=unknown-type');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('query.robotType');
  });

  it('created no module row for any refused registration', async () => {
    const rows = await system.sql.query(
      "select module_name from module_registry where module_name like 'bad-%'",
    );
    expect(rows.rows).toEqual([]);
  });
});
