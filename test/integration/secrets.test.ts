import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import type { RobotTypeDefinition } from '../../core/domain/robot-types';
import {
  ROBOT_WORKFLOW,
  robotStartOptions,
  robotWorkflowArgs,
} from '../../core/domain/robot-workflow.contract';
import type { StepInput } from '../../core/domain/step-activity.contract';
import { SecretStore } from '../../db/secret-store';
import { SecretsRepository } from '../../db/secrets.repository';
import { createModuleWorker } from '../../workers/module.worker';
import { startTestSystem, type TestSystem } from '../support/test-system';

const SECRET = `s3cr3t-${randomUUID()}`;
let system: TestSystem;
const lines: string[] = [];
const logger = pino(
  { level: 'trace' },
  new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  }),
);
let api: ReturnType<typeof request.agent>;
let stopWorker: () => Promise<void>;
let connection: NativeConnection;
const seen: unknown[] = [];
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');
let rotatedKeys = '';

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  // The API and a module worker of this file log at trace level into `lines`.
  const { app } = system.appFor({ logger, redis: false });
  api = request.agent(app).set('authorization', `Bearer ${system.adminKey}`);
  connection = await NativeConnection.connect({ address: system.config.TEMPORAL_ADDRESS });
  const store = new SecretStore(new SecretsRepository(system.database.db), system.config.SECRETS_KEYS);
  const moduleWorker = await createModuleWorker({
    config: system.config,
    connection,
    moduleStores: system.moduleStores,
    database: system.database,
    logger,
    module: { name: `secrets-${process.pid}`, capacity: 2, robotTypes: [] },
    activities: {
      ...createBasicStepActivities(),
      // Uses the secret without returning it, as a real step (an HTTP call, say) would.
      async noop({ step }: StepInput) {
        seen.push(step.params.token);
        logger.info({ params: Object.keys(step.params) }, 'step ran');
        return { used: typeof step.params.token === 'string' };
      },
    },
    // The kind this module serves takes a secret in `token` (ADR 0014: only declared params resolve).
    secretParams: { noop: ['token'] },
    revealSecret: (name) => store.reveal(name),
  });
  const done = moduleWorker.run();
  stopWorker = async () => {
    moduleWorker.worker.shutdown();
    await done;
  };
});

afterAll(async () => {
  await stopWorker?.();
  await connection?.close();
  await system?.close();
});

const definition = (secret: string): RobotTypeDefinition => ({
  name: 'secret-user',
  version: 1,
  description: 'calls a step that needs a secret',
  steps: [{ name: 'call', kind: 'noop', timeoutSeconds: 30, params: { token: { $secret: secret }, ms: 0 } }],
});

async function runRobot(secret: string) {
  const robotId = randomUUID();
  const handle = await system.temporal.workflow.start(
    ROBOT_WORKFLOW,
    robotStartOptions(
      robotWorkflowArgs({
        config: system.config,
        robotId,
        definition: definition(secret),
        input: { text: 'x' },
        priority: 'normal',
      }),
      system.config.CONTROL_TASK_QUEUE,
    ),
  );
  const outcome = await handle.result().then(
    () => 'completed',
    (err: Error) => `failed: ${err.message}`,
  );
  const history = historyToJSON(await handle.fetchHistory());
  // Payloads are base64 in history: decode every one, so the search sees what Temporal stored.
  const decoded = [...history.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)]
    .map((match) => Buffer.from(match[1] ?? '', 'base64').toString('utf8'))
    .join('\n');
  return { robotId, outcome, history: `${history}\n${decoded}` };
}

describe('the secrets API', () => {
  it('stores a value encrypted and never answers it', async () => {
    const created = await api.post('/v1/secrets').send({ name: 'api-token', value: SECRET });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'api-token', keyId: 'test' });
    const again = await api.post('/v1/secrets').send({ name: 'api-token', value: SECRET });
    expect(again.status).toBe(200);
    const listed = await api.get('/v1/secrets');
    expect(listed.body.items.map((item: { name: string }) => item.name)).toEqual(['api-token']);
    for (const res of [created, again, listed]) expect(JSON.stringify(res.body)).not.toContain(SECRET);

    const row = (await system.sql.query("select * from secrets where name = 'api-token'")).rows[0];
    expect(row.key_id).toBe('test');
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(JSON.stringify(row)).not.toContain(Buffer.from(SECRET).toString('base64'));
  });

  it.each([
    ['a path as name', { name: '../etc/passwd', value: SECRET }, 'body.name'],
    ['an unknown field', { name: 'ok', value: SECRET, extra: SECRET }, 'body'],
    ['a value too long', { name: 'ok', value: SECRET.repeat(400) }, 'body.value'],
    ['a number as value', { name: 'ok', value: 42 }, 'body.value'],
  ])('refuses %s without echoing the value', async (_label, body, field) => {
    const res = await api.post('/v1/secrets').send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
  });

  it('is admin only', async () => {
    const made = await system.api.post('/v1/keys').send({ name: 'robots', scopes: ['robots:write'] });
    const res = await request(system.url).get('/v1/secrets').set('x-api-key', made.body.key);
    expect(res.status).toBe(403);
  });
});

describe('a step that references a secret', () => {
  it('gets the value inside the activity; the history holds only the reference', async () => {
    const { outcome, history } = await runRobot('api-token');
    expect(outcome).toBe('completed');
    expect(seen).toEqual([SECRET]);
    expect(history).toContain('"$secret":"api-token"'); // the search does see payloads
    expect(history).not.toContain(SECRET);
  });

  it('fails with a reason naming the secret only when it does not exist', async () => {
    const { robotId, outcome, history } = await runRobot('no-such-secret');
    expect(outcome).toMatch(/failed/);
    expect(history).toContain('secret \\"no-such-secret\\" does not exist');
    const row = (await system.sql.query('select error_message from robots where robot_id = $1', [robotId]))
      .rows[0];
    expect(row?.error_message).toContain('no-such-secret');
  });

  it('left the value out of logs, audit rows and every error', async () => {
    expect(lines.some((line) => line.includes('step ran'))).toBe(true); // the capture works
    expect(lines.some((line) => line.includes('/v1/secrets'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
    const audit = await system.sql.query("select * from audit_log where action like 'secrets.%'");
    expect(audit.rows.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(audit.rows)).not.toContain(SECRET);
    const errors = await system.sql.query('select error_message from robots');
    expect(JSON.stringify(errors.rows)).not.toContain(SECRET);
  });
});

describe('rotation', () => {
  it('re-encrypts under the first key; old keys still decrypt until then', async () => {
    rotatedKeys = `${newKeyEntry('next')},${system.config.SECRETS_KEYS}`;
    const { app, security } = system.appFor({ config: { SECRETS_KEYS: rotatedKeys }, logger, redis: false });
    expect(await security.secrets.reveal('api-token')).toBe(SECRET); // old key still listed: readable
    const res = await request(app)
      .post('/v1/secrets/rotate')
      .set('authorization', `Bearer ${system.adminKey}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reEncrypted: 1 });
    expect(
      (await system.sql.query("select key_id from secrets where name = 'api-token'")).rows[0].key_id,
    ).toBe('next');
    expect(await security.secrets.reveal('api-token')).toBe(SECRET);
    // The old keyring alone can no longer read it, and says so without the value.
    const old = new SecretStore(new SecretsRepository(system.database.db), system.config.SECRETS_KEYS);
    await expect(old.reveal('api-token')).rejects.toThrow(/key "next", which is not configured/);
  });

  it('rpa secrets rotate does the same from the command line', async () => {
    // The secret is under 'next' now (previous test); with 'cli' listed first, rotate moves it there.
    const result = await promisify(execFile)(process.execPath, [rpa, 'secrets', 'rotate'], {
      env: {
        ...process.env,
        DATABASE_URL: system.config.DATABASE_URL,
        SECRETS_KEYS: `${newKeyEntry('cli')},${rotatedKeys}`,
        LOG_LEVEL: 'silent',
      },
    });
    expect(JSON.parse(result.stdout)).toEqual({ reEncrypted: 1 });
    expect(result.stdout + result.stderr).not.toContain(SECRET);
    const row = await system.sql.query("select key_id from secrets where name = 'api-token'");
    expect(row.rows[0].key_id).toBe('cli');
  }, 60_000);

  it('DELETE removes a secret; a second DELETE is 404', async () => {
    expect((await api.delete('/v1/secrets/api-token')).status).toBe(204);
    expect((await api.delete('/v1/secrets/api-token')).status).toBe(404);
  });

  it('without SECRETS_KEYS the API answers 503', async () => {
    const { app } = system.appFor({ config: { SECRETS_KEYS: undefined }, logger, redis: false });
    const res = await request(app)
      .post('/v1/secrets')
      .set('authorization', `Bearer ${system.adminKey}`)
      .send({ name: 'x', value: 'y' });
    expect(res.status).toBe(503);
  });
});
