import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import { createBasicStepActivities } from '../../activities/basic-steps';
import type { StepInput } from '../../activities/types';
import type { RobotView } from '../../core/domain/robot';
import { createLogger } from '../../core/observability/logger';
import { SecretStore } from '../../db/secret-store';
import { SecretsRepository } from '../../db/secrets.repository';
import { createModuleWorker } from '../../workers/module.worker';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// Issue 15 item 6: a key that may create robots must not be able to read a stored secret through
// anything a robot shows: its output, its error, the robot row, GET /v1/robots/:id, its SSE
// events, webhook payloads, workflow history, heartbeats or log lines. Real Postgres, Redis,
// Temporal and a module worker with its secret store.

const SECRET = `crm-${randomUUID()}`;
const ESCAPED = JSON.stringify(SECRET).slice(1, -1);
const PLACEHOLDER = '[secret:crm-token]';

let system: TestSystem;
let receiver: WebhookReceiver;
let connection: NativeConnection;
let stopWorker: () => Promise<void>;
let writerKey = '';
const lines: string[] = [];
const logger = createLogger(
  { LOG_LEVEL: 'info', NODE_ENV: 'test' },
  'echo-module',
  new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  }),
);
/** Everything a robot showed to the outside, gathered by the tests, searched at the end. */
const shown: { where: string; text: string }[] = [];
const show = (where: string, value: unknown) =>
  shown.push({ where, text: typeof value === 'string' ? value : JSON.stringify(value) });

/** Steps of a module that declares `token` secret for two kinds and echoes it every way it can. */
const echoSteps = {
  validate: createBasicStepActivities().validate,
  async noop({ step }: StepInput) {
    if (step.params.token === undefined) return {};
    const token = String(step.params.token);
    logger.info({ token }, `calling the CRM with ${token}`);
    Context.current().heartbeat({ token, note: `holding ${token}` });
    await Context.current().sleep(1500);
    return { echo: token, header: `Bearer ${token}`, [token]: true };
  },
  async transform({ step }: StepInput): Promise<Record<string, unknown>> {
    const token = String(step.params.token);
    throw ApplicationFailure.create({
      message: `the CRM refused ${token}`,
      type: 'CrmRefused',
      nonRetryable: true,
      details: [{ token }],
      cause: new Error(`401 for ${token}`),
    });
  },
};

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  system = await startTestSystem({ module: false, env: { NOTIFY_ALLOWED_HOSTS: '127.0.0.1' } });
  expect((await system.api.post('/v1/secrets').send({ name: 'crm-token', value: SECRET })).status).toBe(201);
  const key = await system.api
    .post('/v1/keys')
    .send({ name: 'writer', scopes: ['robots:read', 'robots:write'] });
  writerKey = key.body.key;
  const subscribed = await system.api.post('/v1/notifications/subscriptions').send({
    url: receiver.url,
    events: ['robot.completed', 'robot.failed', 'robot.notified'],
  });
  expect(subscribed.status).toBe(201);

  connection = await NativeConnection.connect({ address: system.config.TEMPORAL_ADDRESS });
  const store = new SecretStore(new SecretsRepository(system.database.db), system.config.SECRETS_KEYS);
  const moduleWorker = await createModuleWorker({
    config: system.config,
    connection,
    moduleStores: system.moduleStores,
    database: system.database,
    logger,
    module: { name: `echo-${process.pid}`, capacity: 4, robotTypes: [] },
    activities: echoSteps,
    // This module's noop and transform take a secret in `token` (as a custom kind would declare it).
    secretParams: { noop: ['token'], transform: ['token'] },
    revealSecret: (name) => store.reveal(name),
  });
  const done = moduleWorker.run();
  stopWorker = async () => {
    moduleWorker.worker.shutdown();
    await done;
  };
}, 60_000);

afterAll(async () => {
  await stopWorker?.();
  await connection?.close();
  await system?.close();
  await receiver?.close();
});

const asWriter = (req: ReturnType<typeof system.api.post>) => req.set('authorization', `Bearer ${writerKey}`);

/** A type row as a registration before this check wrote it, or as a custom kind's catalog would allow. */
async function storeTypeDirectly(name: string, steps: Record<string, unknown>[]) {
  const definition = { name, version: 1, description: '', steps };
  await system.sql.query('insert into robot_types (name, version, definition) values ($1, 1, $2)', [
    name,
    JSON.stringify(definition),
  ]);
}

/** The robot's SSE stream from creation to its end, as the writer key reads it. */
function streamOf(robotId: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${system.url}/v1/robots/${robotId}/events`,
      { headers: { authorization: `Bearer ${writerKey}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(body);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('the stream did not end in time'));
    }, 60_000);
    req.on('error', reject);
  });
}

/** Decoded history: failure messages as they are, payloads (base64) decoded. */
async function historyOf(temporal: Client, robotId: string): Promise<string> {
  const history = historyToJSON(await temporal.workflow.getHandle(robotId).fetchHistory());
  const decoded = [...history.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)]
    .map((match) => Buffer.from(match[1] ?? '', 'base64').toString('utf8'))
    .join('\n');
  return `${history}\n${decoded}`;
}

/** Creates a robot with the writer key, follows it to its end and records all it showed. */
async function runRobot(type: string, input: Record<string, unknown>): Promise<RobotView> {
  const created = await asWriter(system.api.post('/v1/robots')).send({ type, input });
  expect(created.status).toBe(201);
  show(`POST /v1/robots (${type})`, created.body);
  const robotId: string = created.body.robotId;
  const stream = streamOf(robotId);
  await system.temporal.workflow
    .getHandle(robotId)
    .result()
    .catch(() => undefined);
  show(`SSE ${type}`, await stream);
  const robot = await eventually(async () => {
    const res = await asWriter(system.api.get(`/v1/robots/${robotId}`));
    return ['completed', 'failed'].includes(res.body.status) ? (res.body as RobotView) : undefined;
  });
  show(`GET /v1/robots/:id (${type})`, robot);
  show(`history ${type}`, await historyOf(system.temporal, robotId));
  return robot;
}

describe('the reported hole: a validate step reading from a secret', () => {
  const leaky = [
    { name: 'first', kind: 'noop' },
    { name: 'check', kind: 'validate', params: { from: { $secret: 'crm-token' }, required: ['x'] } },
  ];

  it('cannot be registered: 400 naming the step and the param, and nothing stored', async () => {
    const res = await asWriter(system.api.post('/v1/robot-types')).send({ name: 'leaky', steps: leaky });
    show('POST /v1/robot-types', res.body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: '/problems/validation-error' });
    expect(res.body.errors).toEqual([
      {
        field: 'body.steps.1.params.from',
        message:
          'step check: param from may not hold a secret reference; a validate step takes secrets in none of its params',
      },
    ]);
    expect((await asWriter(system.api.get('/v1/robot-types/leaky'))).status).toBe(404);
    const rows = await system.sql.query("select count(*)::int as n from robot_types where name = 'leaky'");
    expect(rows.rows[0].n).toBe(0);
  });

  it('stored before the check, it fails at the module without the secret being looked up', async () => {
    await storeTypeDirectly('leaky-stored', leaky);
    const robot = await runRobot('leaky-stored', { x: 1 });
    expect(robot.status).toBe('failed');
    expect(robot.error).toBe(
      'step check: param from holds a reference to secret "crm-token", but a validate step takes secrets in none of its params',
    );
  }, 90_000);
});

describe('a step that holds the secret and echoes it', () => {
  it('output, heartbeats and logs carry the name where the value was', async () => {
    await storeTypeDirectly('echo-out', [
      { name: 'call', kind: 'noop', params: { token: { $secret: 'crm-token' } } },
    ]);
    const created = await asWriter(system.api.post('/v1/robots')).send({ type: 'echo-out', input: {} });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    const stream = streamOf(robotId);
    // The step heartbeats once and holds 1.5 s: its details are readable from Temporal meanwhile.
    const heartbeat = await eventually(
      async () => {
        const description = await system.temporal.workflow.getHandle(robotId).describe();
        const payloads = description.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads ?? [];
        return payloads.length > 0
          ? payloads.map((payload) => Buffer.from(payload.data ?? []).toString('utf8')).join('\n')
          : undefined;
      },
      20_000,
      50,
    );
    show('heartbeat details (describe)', heartbeat);
    expect(heartbeat).toContain(`holding ${PLACEHOLDER}`);
    await system.temporal.workflow.getHandle(robotId).result();
    show('SSE echo-out', await stream);
    const robot = (await asWriter(system.api.get(`/v1/robots/${robotId}`))).body as RobotView;
    show('GET /v1/robots/:id (echo-out)', robot);
    show('history echo-out', await historyOf(system.temporal, robotId));
    expect(robot.status).toBe('completed');
    expect(robot.output).toEqual({
      call: { echo: PLACEHOLDER, header: `Bearer ${PLACEHOLDER}`, [PLACEHOLDER]: true },
    });
    const logged = lines.find((line) => line.includes('calling the CRM'));
    expect(JSON.parse(logged ?? '{}')).toMatchObject({
      token: PLACEHOLDER,
      msg: `calling the CRM with ${PLACEHOLDER}`,
    });
  }, 90_000);

  it('its failure carries the name in message, details and cause', async () => {
    await storeTypeDirectly('echo-fail', [
      { name: 'call', kind: 'transform', params: { token: { $secret: 'crm-token' } } },
    ]);
    const robot = await runRobot('echo-fail', {});
    expect(robot.status).toBe('failed');
    expect(robot.error).toBe(`401 for ${PLACEHOLDER}`);
    const history = await historyOf(system.temporal, robot.robotId);
    expect(history).toContain(`the CRM refused ${PLACEHOLDER}`);
    expect(history).toContain(`{"token":"${PLACEHOLDER}"}`);
  }, 90_000);
});

describe('a secret reference smuggled into robot input', () => {
  it('is never resolved: the templated notification shows the reference', async () => {
    const registered = await asWriter(system.api.post('/v1/robot-types')).send({
      name: 'input-echo',
      steps: [
        { name: 'first', kind: 'noop' },
        { name: 'tell', kind: 'notify', params: { message: 'token: {{input.token}}' } },
      ],
    });
    expect(registered.status).toBe(201);
    const robot = await runRobot('input-echo', { token: { $secret: 'crm-token' } });
    expect(robot.status).toBe('completed');
    expect(JSON.stringify(robot.output)).toContain('crm-token');
  }, 90_000);
});

describe('everything the robots showed', () => {
  it('webhook deliveries arrived for each robot, and the rows and answers hold no secret value', async () => {
    // completed: echo-out, input-echo; failed: leaky-stored, echo-fail; notified: input-echo.
    await eventually(async () => (receiver.received.length >= 5 ? true : undefined), 30_000);
    for (const delivery of receiver.received)
      show(`webhook ${delivery.headers['x-rpa-event']}`, delivery.body);
    const events = receiver.received.map((delivery) => delivery.headers['x-rpa-event']).sort();
    expect(events).toEqual([
      'robot.completed',
      'robot.completed',
      'robot.failed',
      'robot.failed',
      'robot.notified',
    ]);
    for (const table of ['robots', 'robot_execute', 'notification_deliveries', 'audit_log']) {
      show(`table ${table}`, (await system.sql.query(`select * from ${table}`)).rows);
    }
    show('log lines', lines.join(''));

    const leaks = shown.filter(({ text }) => text.includes(SECRET) || text.includes(ESCAPED));
    expect(leaks.map(({ where }) => where)).toEqual([]);
    // The search works: the placeholder is where the value would have been.
    expect(shown.filter(({ text }) => text.includes(PLACEHOLDER)).length).toBeGreaterThan(5);
  });
});
