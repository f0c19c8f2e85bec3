import { STEP_SECRET_PARAMS } from '../../core/domain/step-kinds';
import { MODULE_VERSION } from '../../workers/module.worker';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The module registration contract (docs/api.md, Modules): step declarations in, the catalog and robot
// types checked against them out. The default module of the system is this project's own module
// worker, registered through the same registry.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

const ledgerPost = {
  kind: 'ledger.post',
  version: '1.0.0',
  description: 'Posts an entry',
  params: {
    type: 'object',
    required: ['account', 'amount'],
    properties: {
      account: { type: 'string', minLength: 3 },
      amount: { type: 'number', minimum: 0 },
      token: { type: 'string', minLength: 20 },
    },
    additionalProperties: false,
  },
  output: { type: 'object', properties: { entryId: { type: 'string' } } },
  secretParams: ['token'],
};

const ledger = {
  name: 'ledger',
  version: '1.2.0',
  capacity: 4,
  steps: [ledgerPost, { kind: 'validate', version: '0.1.0' }],
};

const register = (body: object) => system.api.post('/v1/modules').send(body);

async function declaredKinds(module: string): Promise<string[]> {
  const rows = await system.sql.query(
    'select kind from module_step_kinds where module_name = $1 order by kind',
    [module],
  );
  return rows.rows.map((row: { kind: string }) => row.kind);
}

describe('POST /v1/modules with step declarations', () => {
  it('registers (201) with the declarations as stored, re-registers (200) and drops kinds not re-sent', async () => {
    const first = await register(ledger);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: 'ledger',
      version: '1.2.0',
      supportedRobotTypes: ['*'],
      supportedSteps: ['ledger.post', 'validate'],
      taskQueue: 'module-ledger',
    });
    expect(first.body.steps).toEqual([
      { ...ledgerPost, input: { type: 'object' } },
      {
        kind: 'validate',
        version: '0.1.0',
        description: '',
        params: { type: 'object' },
        input: { type: 'object' },
        output: { type: 'object' },
        secretParams: [],
      },
    ]);
    expect(await declaredKinds('ledger')).toEqual(['ledger.post', 'validate']);

    const again = await register({ ...ledger, version: '1.3.0', steps: [ledgerPost] });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe('1.3.0');
    expect(again.body.supportedSteps).toEqual(['ledger.post']);
    expect(again.body.steps.map((step: { kind: string }) => step.kind)).toEqual(['ledger.post']);
    expect(await declaredKinds('ledger')).toEqual(['ledger.post']);
  });

  it('still takes the legacy supportedSteps, beside declarations or alone', async () => {
    const res = await register({
      name: 'legacy-mix',
      version: '1.0.0',
      capacity: 1,
      supportedSteps: ['noop'],
      steps: [{ kind: 'mix.step', version: '1.0.0' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.supportedSteps).toEqual(['mix.step', 'noop']);
    expect(await declaredKinds('legacy-mix')).toEqual(['mix.step']);
  });

  const bad = (name: string, steps: object[]) => ({ name, version: '1.0.0', capacity: 1, steps });
  it.each([
    [
      'a schema Ajv cannot compile',
      bad('bad-schema', [
        { kind: 'x.y', version: '1.0.0', params: { properties: { a: { type: 'strng' } } } },
      ]),
      'body.steps.0.params',
    ],
    [
      'an unknown schema keyword',
      bad('bad-keyword', [{ kind: 'x.y', version: '1.0.0', output: { requried: ['a'] } }]),
      'body.steps.0.output',
    ],
    [
      'a params schema that refuses objects',
      bad('bad-array', [{ kind: 'x.y', version: '1.0.0', params: { type: 'array' } }]),
      'body.steps.0.params',
    ],
    [
      'an uppercase kind',
      bad('bad-kind-a', [{ kind: 'Ledger.Post', version: '1.0.0' }]),
      'body.steps.0.kind',
    ],
    [
      'an undotted unknown kind',
      bad('bad-kind-b', [{ kind: 'ledger', version: '1.0.0' }]),
      'body.steps.0.kind',
    ],
    ['a workflow kind', bad('bad-kind-c', [{ kind: 'delay', version: '1.0.0' }]), 'body.steps.0.kind'],
    [
      'a kind declared twice',
      bad('bad-twice', [
        { kind: 'x.y', version: '1.0.0' },
        { kind: 'x.y', version: '1.1.0' },
      ]),
      'body.steps.1.kind',
    ],
    [
      'secret params on a built-in kind other than its own',
      bad('bad-secret', [{ kind: 'noop', version: '1.0.0', secretParams: ['token'] }]),
      'body.steps.0.secretParams',
    ],
    [
      'a kind version that is not semver',
      bad('bad-version', [{ kind: 'x.y', version: '1' }]),
      'body.steps.0.version',
    ],
    ['neither steps nor supportedSteps', { name: 'bad-empty', version: '1.0.0', capacity: 1 }, 'body.steps'],
  ])('refuses %s with 400 naming the field', async (_name, body, field) => {
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });

  it('created nothing for any refused registration', async () => {
    const modules = await system.sql.query("select 1 from module_registry where module_name like 'bad-%'");
    const kinds = await system.sql.query("select 1 from module_step_kinds where module_name like 'bad-%'");
    expect([...modules.rows, ...kinds.rows]).toEqual([]);
  });

  it("refuses a custom kind's other major while an active module declares it (409), and takes it once none does", async () => {
    const crm = (name: string, version: string) => ({
      name,
      version: '1.0.0',
      capacity: 1,
      steps: [{ kind: 'acme.crm-lookup', version }],
    });
    expect((await register(crm('crm-one', '1.4.0'))).status).toBe(201);

    const breaking = await register(crm('crm-two', '2.0.0'));
    expect(breaking.status).toBe(409);
    expect(breaking.body).toMatchObject({
      type: '/problems/conflict',
      kind: 'acme.crm-lookup',
      declaredBy: [{ module: 'crm-one', version: '1.4.0' }],
      errors: [{ field: 'body.steps.0.version' }],
    });
    expect(breaking.body.detail).toContain('make a new kind name for a breaking change');
    const written = await system.sql.query("select 1 from module_registry where module_name = 'crm-two'");
    expect(written.rows).toEqual([]);

    // The same major is one contract: a second module may declare a newer minor.
    expect((await register(crm('crm-three', '1.5.0'))).status).toBe(201);
    const shown = await system.api.get('/v1/step-kinds/acme.crm-lookup');
    expect(shown.body.version).toBe('1.5.0');
    expect(
      shown.body.modules.map((module: { name: string; kindVersion: string }) => [
        module.name,
        module.kindVersion,
      ]),
    ).toEqual([
      ['crm-one', '1.4.0'],
      ['crm-three', '1.5.0'],
    ]);

    // Only active modules hold a kind's major, and only they set its version.
    expect((await system.api.delete('/v1/modules/crm-three')).status).toBe(200);
    expect((await system.api.get('/v1/step-kinds/acme.crm-lookup')).body.version).toBe('1.4.0');
    expect((await system.api.delete('/v1/modules/crm-one')).status).toBe(200);
    expect((await register(crm('crm-two', '2.0.0'))).status).toBe(201);
    expect((await system.api.get('/v1/step-kinds/acme.crm-lookup')).body.version).toBe('2.0.0');
  });
});

describe('replica liveness and the catalog', () => {
  it('shows a custom kind served live after a heartbeat, and not live once the replica deregisters', async () => {
    const beat = await system.api
      .post('/v1/modules/ledger/heartbeat')
      .send({ replicaId: 'r-1', capacity: 4 });
    expect(beat.status).toBe(200);
    expect(beat.body).toMatchObject({
      name: 'ledger',
      heartbeatSeconds: 1,
      ttlSeconds: 3,
      live: { replicas: 1 },
    });

    const kind = await system.api.get('/v1/step-kinds/ledger.post');
    expect(kind.status).toBe(200);
    expect(kind.body).toEqual({
      name: 'ledger.post',
      builtIn: false,
      runsOn: 'module',
      version: '1.0.0',
      description: 'Posts an entry',
      paramsSchema: ledgerPost.params,
      inputSchema: { type: 'object' },
      outputSchema: ledgerPost.output,
      secretParams: ['token'],
      modules: [
        {
          name: 'ledger',
          version: '1.3.0',
          kindVersion: '1.0.0',
          live: true,
          replicas: 1,
          isActive: true,
          draining: false,
        },
      ],
    });
    const list = await system.api.get('/v1/step-kinds');
    const names = list.body.items.map((item: { name: string }) => item.name);
    // Built-in kinds first, then the custom ones by name.
    expect(names.slice(-3)).toEqual(['acme.crm-lookup', 'ledger.post', 'mix.step']);

    const requestId = `deregister-${process.pid}`;
    const gone = await system.api.delete('/v1/modules/ledger/replicas/r-1').set('x-request-id', requestId);
    expect(gone.status).toBe(204);
    // At once, not when the heartbeat's 3 s expire.
    const after = await system.api.get('/v1/step-kinds/ledger.post');
    expect(after.body.modules[0]).toMatchObject({ name: 'ledger', live: false, replicas: 0 });

    const audit = await eventually(async () => {
      const rows = await system.sql.query(
        'select action, target, status from audit_log where request_id = $1',
        [requestId],
      );
      return rows.rows[0];
    }, 5000);
    expect(audit).toEqual({ action: 'modules.deregister', target: 'ledger/r-1', status: 204 });
  });

  it('answers 204 for a replica already gone, 404 for an unknown module, 400 for a bad replica id', async () => {
    expect((await system.api.delete('/v1/modules/ledger/replicas/r-1')).status).toBe(204);
    expect((await system.api.delete('/v1/modules/no-such/replicas/r-1')).status).toBe(404);
    const bad = await system.api.delete('/v1/modules/ledger/replicas/a%20b');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('params.replicaId');
  });

  it('is in the OpenAPI document, as are the declarations and the heartbeat cadence', async () => {
    const { paths } = (await system.api.get('/openapi.json')).body;
    expect(Object.keys(paths['/v1/modules/{name}/replicas/{replicaId}'].delete.responses)).toEqual(
      expect.arrayContaining(['204', '400', '404']),
    );
    const request = paths['/v1/modules'].post.requestBody.content['application/json'].schema;
    expect(request.properties.steps.items.required).toEqual(['kind', 'version']);
    const beat = paths['/v1/modules/{name}/heartbeat'].post.responses['200'].content['application/json'];
    expect(beat.schema.required).toEqual(['heartbeatSeconds', 'ttlSeconds']);
  });
});

describe("this project's module worker", () => {
  it('declares each built-in kind it serves with its schema and secret params', async () => {
    const http = await system.api.get('/v1/step-kinds/http-request');
    expect(http.body.modules).toContainEqual(
      expect.objectContaining({ name: system.moduleName, kindVersion: MODULE_VERSION, live: true }),
    );
    const rows = await system.sql.query(
      'select kind, version, description, params_schema, secret_params from module_step_kinds where module_name = $1',
      [system.moduleName],
    );
    const byKind = new Map(rows.rows.map((row: { kind: string }) => [row.kind, row]));
    const module = await system.api.get(`/v1/modules/${system.moduleName}`);
    expect([...byKind.keys()].sort()).toEqual([...module.body.supportedSteps].sort());
    expect(byKind.get('http-request')).toEqual({
      kind: 'http-request',
      version: MODULE_VERSION,
      description: http.body.description,
      params_schema: http.body.paramsSchema,
      secret_params: [...STEP_SECRET_PARAMS['http-request']],
    });
    expect(http.body.paramsSchema).toMatchObject({ required: ['url'], additionalProperties: false });
  });

  it('declares the custom kinds of the activities it is given, with any-object schemas', async () => {
    const module = await system.startModule(
      { name: 'ledger-worker' },
      { 'ledger.refund': async () => ({ refunded: true }) },
    );
    try {
      const res = await system.api.get('/v1/step-kinds/ledger.refund');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        builtIn: false,
        version: MODULE_VERSION,
        paramsSchema: { type: 'object' },
        secretParams: [],
        modules: [{ name: 'ledger-worker', kindVersion: MODULE_VERSION, live: true }],
      });
    } finally {
      await module.stop();
    }
  });
});

describe('robot types against the catalog', () => {
  const typeWith = (name: string, step: object) => ({
    name,
    steps: [
      { name: 'check', kind: 'validate', params: { required: ['account'] } },
      { name: 'post', ...step },
    ],
  });
  const registerType = (body: object) => system.api.post('/v1/robot-types').send(body);

  it.each([
    [
      'a custom kind no module declared',
      typeWith('bad-type-a', { kind: 'billing.charge', params: {} }),
      'body.steps.1.kind',
      'no module has registered step kind billing.charge; register a module serving it first',
    ],
    [
      'params its schema refuses',
      typeWith('bad-type-b', { kind: 'ledger.post', params: { account: 'acc-1', amount: '12' } }),
      'body.steps.1.params.amount',
      'must be number',
    ],
    [
      'a param its schema requires, missing',
      typeWith('bad-type-c', { kind: 'ledger.post', params: { amount: 12 } }),
      'body.steps.1.params.account',
      'is required',
    ],
    [
      'a secret reference in a param not declared secret',
      typeWith('bad-type-d', { kind: 'ledger.post', params: { account: { $secret: 'acct' }, amount: 1 } }),
      'body.steps.1.params.account',
      'a ledger.post step takes secrets only in token',
    ],
  ])('refuses %s with 400 naming the field, storing nothing', async (_name, body, field, message) => {
    const res = await registerType(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({ field, message: expect.stringContaining(message) });
    const stored = await system.sql.query('select 1 from robot_types where name = $1', [
      (body as { name: string }).name,
    ]);
    expect(stored.rows).toEqual([]);
  });

  it('registers a type whose custom step matches (201); a secret reference counts as a string', async () => {
    // token's schema wants 20 characters: what the secret holds, not what its reference looks like.
    const body = typeWith('ledger-posting', {
      kind: 'ledger.post',
      params: { account: 'acc-1', amount: 12.5, token: { $secret: 'ledger-token' } },
    });
    const res = await registerType(body);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'ledger-posting', version: 1 });
    expect(res.body.steps[1]).toMatchObject({ kind: 'ledger.post', params: body.steps[1]?.params });
  });

  it('refuses a secret reference where the schema takes no string', async () => {
    const res = await registerType(
      typeWith('bad-type-e', { kind: 'ledger.post', params: { account: 'acc-1', amount: { $secret: 'x' } } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({
      field: 'body.steps.1.params.amount',
      message: expect.stringContaining('must be number'),
    });
  });
});
