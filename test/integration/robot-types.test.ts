import type { RobotView } from '../../core/domain/robot';
import { inputSchemaProblem } from '../../core/domain/robot-input';
import { faultySteps } from '../support/faulty-steps';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const steps = faultySteps();

beforeAll(async () => {
  system = await startTestSystem({ module: false, env: { CIRCUIT_FAILURE_THRESHOLD: '1000' } });
  await system.startModule({ name: 'types-mod' }, steps.activities);
});

afterAll(async () => {
  await system?.close();
});

const register = (body: unknown) => system.api.post('/v1/robot-types').send(body as object);

async function storedRows(): Promise<number> {
  return Number((await system.sql.query('select count(*) from robot_types')).rows[0].count);
}

async function runRobot(type: string, input: Record<string, unknown>, until: string[]): Promise<RobotView> {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
    return until.includes(res.body.status) ? (res.body as RobotView) : undefined;
  });
}

const intake = (extra: object[] = []) => ({
  name: 'ticket-intake',
  description: 'classifies a ticket',
  steps: [
    { name: 'hold', kind: 'noop' },
    { name: 'check', kind: 'validate', params: { required: ['text'] } },
    {
      name: 'sort',
      kind: 'classify',
      params: { field: 'text', categories: { refund: ['refund'], order: ['order'] } },
      requiredOutputs: ['category', 'confidence'],
      timeoutSeconds: 30,
    },
    ...extra,
  ],
});

describe('registering robot types', () => {
  it('stores version 1, then 2, of a name; reads the newest and every version', async () => {
    const first = await register(intake());
    expect(first.status).toBe(201);
    expect(first.headers.location).toBe('/v1/robot-types/ticket-intake');
    expect(first.body).toMatchObject({ name: 'ticket-intake', version: 1, builtIn: false });
    // Defaults filled in by the schema are stored with the definition.
    expect(first.body.steps[0]).toEqual({ name: 'hold', kind: 'noop', params: {}, timeoutSeconds: 60 });
    expect(first.body.steps[2]).toMatchObject({
      requiredOutputs: ['category', 'confidence'],
      timeoutSeconds: 30,
    });

    const second = await register(
      intake([{ name: 'summary', kind: 'transform', params: { fields: ['text'] } }]),
    );
    expect(second.status).toBe(201);
    expect(second.body.version).toBe(2);

    const current = await system.api.get('/v1/robot-types/ticket-intake');
    expect(current.body).toMatchObject({ version: 2, steps: [{}, {}, {}, { name: 'summary' }] });
    const versions = await system.api.get('/v1/robot-types/ticket-intake/versions');
    expect(versions.body.items.map((type: { version: number }) => type.version)).toEqual([2, 1]);
    const list = await system.api.get('/v1/robot-types');
    expect(
      list.body.items.map((type: { name: string; version: number }) => [type.name, type.version]),
    ).toEqual([
      ['demo', 1],
      ['noop-pipeline', 1],
      ['email-reply', 1],
      ['approval-demo', 1],
      ['invoice-intake', 2],
      ['email-intake', 1],
      ['ticket-intake', 2],
    ]);
    expect(await storedRows()).toBe(2);
    // Every built-in type declares its input, in a schema that compiles.
    for (const type of list.body.items.filter((item: { builtIn: boolean }) => item.builtIn)) {
      expect({
        name: type.name,
        problem: type.inputSchema ? inputSchemaProblem(type.inputSchema) : 'no inputSchema',
      }).toEqual({
        name: type.name,
        problem: null,
      });
    }
  });

  it('a robot runs the version current at its start, even when a newer one is registered meanwhile', async () => {
    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'ticket-intake', input: { text: 'please refund me', holdMs: 1500 } });
    expect(created.body).toMatchObject({ typeVersion: 2 });
    expect((await register(intake())).body.version).toBe(3); // v3 drops the summary step
    const done = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
      return res.body.status === 'completed' ? (res.body as RobotView) : undefined;
    });
    expect(done.typeVersion).toBe(2);
    expect(Object.keys(done.output ?? {}).sort()).toEqual(['check', 'hold', 'sort', 'summary']);
    expect(done.output).toMatchObject({ sort: { category: 'refund' } });

    const next = await runRobot('ticket-intake', { text: 'an order' }, ['completed']);
    expect(next.typeVersion).toBe(3);
    expect(Object.keys(next.output ?? {}).sort()).toEqual(['check', 'hold', 'sort']);
  }, 60_000);

  it('modules are scored for a registered type as for a built-in one', async () => {
    const res = await system.api.get('/v1/modules/types-mod?robotType=ticket-intake');
    expect(res.status).toBe(200);
    expect(res.body.routing).toMatchObject({ eligible: true });
  });

  it('a step returning without a required output field fails the robot', async () => {
    await register({
      name: 'strict-output',
      steps: [{ name: 'sort', kind: 'classify', params: { categories: {} }, requiredOutputs: ['priority'] }],
    }).expect(201);
    const robot = await runRobot('strict-output', { text: 'x' }, ['failed', 'completed']);
    expect(robot.status).toBe('failed');
    expect(robot.error).toBe('step sort returned without required output field(s): priority');
  }, 60_000);

  it("a step's own retry policy: one attempt, then the robot is parked", async () => {
    await register({
      name: 'one-shot',
      steps: [{ name: 'call', kind: 'noop', retry: { maximumAttempts: 1 } }],
    }).expect(201);
    steps.fail('one-shot', 'call', 'remote said no');
    const robot = await runRobot('one-shot', { tag: 'one-shot' }, ['parked', 'failed', 'completed']);
    expect(robot).toMatchObject({ status: 'parked', error: 'remote said no' });
    expect(steps.calls(robot.robotId)).toEqual(['call']);
    await system.api.post(`/v1/robots/${robot.robotId}/cancel`).expect(202);
  }, 60_000);

  it("an approval step's own timeouts override the configured ones", async () => {
    await register({
      name: 'quick-review',
      steps: [{ name: 'review', kind: 'approval', params: { timeout: '1s', escalationTimeout: '1s' } }],
    }).expect(201);
    const robot = await runRobot('quick-review', {}, ['failed', 'completed']);
    expect(robot.error).toBe('approval timed out');
    expect(robot.progress?.steps[0]?.escalatedAt).toEqual(expect.any(String));
  }, 60_000);
});

describe("a registered type's inputSchema", () => {
  it('is stored with its version, shown, and checks every robot at the door', async () => {
    const res = await register({
      name: 'typed-ticket',
      inputSchema: {
        type: 'object',
        required: ['text', 'customer'],
        properties: {
          text: { type: 'string', minLength: 1 },
          customer: {
            type: 'object',
            required: ['email'],
            properties: { email: { type: 'string', format: 'email' } },
          },
        },
      },
      steps: [{ name: 'check', kind: 'validate', params: { required: ['text'] } }],
    });
    expect(res.status).toBe(201);
    const shown = await system.api.get('/v1/robot-types/typed-ticket');
    expect(shown.body.inputSchema).toMatchObject({ required: ['text', 'customer'] });
    const row = await system.sql.query("select definition from robot_types where name = 'typed-ticket'");
    expect(row.rows[0].definition.inputSchema).toEqual(res.body.inputSchema);

    const before = await system.sql.query('select count(*)::int as n from robots');
    const refused = await system.api
      .post('/v1/robots')
      .send({ type: 'typed-ticket', input: { text: 7, customer: { email: 'not an address' } } });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      { field: 'body.input.text', path: '/text', message: 'must be string' },
      { field: 'body.input.customer.email', path: '/customer/email', message: 'must match format "email"' },
    ]);
    expect((await system.sql.query('select count(*)::int as n from robots')).rows[0].n).toBe(
      before.rows[0].n,
    );

    const robot = await runRobot(
      'typed-ticket',
      { text: 'refund please', customer: { email: 'ana@example.com' } },
      ['completed', 'failed'],
    );
    expect(robot.status).toBe('completed');
    // The run carries its pipeline only: the schema stays out of workflow history.
    const history = await system.temporal.workflow.getHandle(robot.robotId).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const args = JSON.stringify(started?.input?.payloads?.map((p) => Buffer.from(p.data ?? []).toString()));
    expect(args).toContain('typed-ticket');
    expect(args).not.toContain('inputSchema');
  }, 60_000);

  it('a repeated Idempotency-Key still gets the robot its first request made before the schema came', async () => {
    const steps = [{ name: 'hold', kind: 'noop' }];
    await register({ name: 'late-schema', steps }).expect(201);
    const body = { type: 'late-schema', input: { note: 'no ticket id' } };
    const first = await system.api.post('/v1/robots').set('idempotency-key', 'late-schema-1').send(body);
    expect(first.status).toBe(201);
    const v2 = { type: 'object', required: ['ticketId'], properties: { ticketId: { type: 'string' } } };
    await register({ name: 'late-schema', inputSchema: v2, steps }).expect(201);

    const repeat = await system.api.post('/v1/robots').set('idempotency-key', 'late-schema-1').send(body);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ robotId: first.body.robotId, typeVersion: 1 });
    const fresh = await system.api.post('/v1/robots').set('idempotency-key', 'late-schema-2').send(body);
    expect(fresh.status).toBe(400);
    expect(fresh.body.errors).toEqual([
      { field: 'body.input.ticketId', path: '/ticketId', message: 'is required' },
    ]);
  });
});

describe('bad registrations change nothing', () => {
  it('a built-in name is 409', async () => {
    const before = await storedRows();
    const res = await register({ name: 'demo', steps: [{ name: 'a', kind: 'noop' }] });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: '/problems/conflict',
      detail: 'robot type demo is built in and cannot be overwritten',
    });
    expect(await storedRows()).toBe(before);
  });

  it.each([
    [
      'an unknown step kind',
      { name: 'bad-a', steps: [{ name: 'a', kind: 'teleport' }] },
      'body.steps.0.kind',
    ],
    [
      'a repeated step name',
      {
        name: 'bad-b',
        steps: [
          { name: 'a', kind: 'noop' },
          { name: 'a', kind: 'noop' },
        ],
      },
      'body.steps.1.name',
    ],
    [
      'an approval timeout that is no duration',
      { name: 'bad-c', steps: [{ name: 'a', kind: 'approval', params: { timeout: 'soon' } }] },
      'body.steps.0.params.timeout',
    ],
    ['no steps', { name: 'bad-d', steps: [] }, 'body.steps'],
    [
      'a version (the registry assigns it)',
      { name: 'bad-e', version: 7, steps: [{ name: 'a', kind: 'noop' }] },
      'body',
    ],
    [
      'a retry policy without attempts',
      { name: 'bad-f', steps: [{ name: 'a', kind: 'noop', retry: { initialIntervalSeconds: 1 } }] },
      'body.steps.0.retry.maximumAttempts',
    ],
    ['a bad name', { name: 'Bad Name', steps: [{ name: 'a', kind: 'noop' }] }, 'body.name'],
    [
      'an inputSchema with an unknown keyword',
      {
        name: 'bad-g',
        inputSchema: { type: 'object', requried: ['x'] },
        steps: [{ name: 'a', kind: 'noop' }],
      },
      'body.inputSchema',
    ],
    [
      'a secret reference in a param its kind does not declare secret',
      {
        name: 'bad-h',
        steps: [{ name: 'a', kind: 'transform', params: { fields: [{ $secret: 'crm-token' }] } }],
      },
      'body.steps.0.params.fields.0',
    ],
    [
      'a maxPendingSeconds of 0',
      { name: 'bad-i', maxPendingSeconds: 0, steps: [{ name: 'a', kind: 'noop' }] },
      'body.maxPendingSeconds',
    ],
    [
      'a negative maxPendingSeconds',
      { name: 'bad-m', maxPendingSeconds: -5, steps: [{ name: 'a', kind: 'noop' }] },
      'body.maxPendingSeconds',
    ],
    [
      'a maxPendingSeconds over a year',
      { name: 'bad-j', maxPendingSeconds: 31_536_001, steps: [{ name: 'a', kind: 'noop' }] },
      'body.maxPendingSeconds',
    ],
    [
      'a fractional maxPendingSeconds',
      { name: 'bad-k', maxPendingSeconds: 1.5, steps: [{ name: 'a', kind: 'noop' }] },
      'body.maxPendingSeconds',
    ],
    [
      'a maxPendingSeconds that is text',
      { name: 'bad-l', maxPendingSeconds: '60', steps: [{ name: 'a', kind: 'noop' }] },
      'body.maxPendingSeconds',
    ],
  ])('%s is 400 naming the field', async (_what, body, field) => {
    const before = await storedRows();
    const res = await register(body);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('/problems/validation-error');
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    expect(await storedRows()).toBe(before);
  });

  it('the OpenAPI document has the registry routes and the registration schema', async () => {
    const doc = (await system.api.get('/openapi.json')).body;
    const schema = doc.paths['/v1/robot-types'].post.requestBody.content['application/json'].schema;
    expect(schema.required).toEqual(['name', 'steps']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.inputSchema).toMatchObject({ type: 'object' });
    expect(schema.properties.maxPendingSeconds).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: 31_536_000,
    });
    expect(doc.components.schemas.Problem.properties.errors.items.properties).toHaveProperty('path');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/robot-types/{name}', '/v1/robot-types/{name}/versions']),
    );
  });

  it('unknown types are 404; a bad name is 400', async () => {
    for (const path of ['/v1/robot-types/nope', '/v1/robot-types/nope/versions']) {
      const res = await system.api.get(path);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ type: '/problems/not-found', detail: 'robot type nope not found' });
    }
    const bad = await system.api.get('/v1/robot-types/NOPE');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('params.name');
    const robot = await system.api.post('/v1/robots').send({ type: 'nope' });
    expect(robot.status).toBe(400);
  });
});
