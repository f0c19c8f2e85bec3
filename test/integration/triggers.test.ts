import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { newKeyEntry } from '../../core/adapters/crypto/secret-box';
import { newWebhookSecret, webhookHeaders } from '../../core/adapters/crypto/standard-webhooks';
import { HOOK_ROBOT_NAMESPACE, uuidV5 } from '../../core/adapters/crypto/uuid-v5';
import { runRpa } from '../support/rpa-cli';
import { startTestSystem, type TestSystem } from '../support/test-system';

// Inbound webhook triggers (ADR 0048): /v1/triggers (admin) and POST /hooks/<name>, signed the
// Standard Webhooks way, against the real API, Postgres, Redis and Temporal.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    // A small body limit so the 413 is cheap to reach; a wide per-IP budget for the many keyless calls.
    env: { HOOK_BODY_LIMIT: '2kb', RATE_LIMIT_PER_IP: '10000' },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
});

const robotCount = async (): Promise<number> =>
  (await system.sql.query('select count(*)::int as n from robots')).rows[0].n;
const triggerCount = async (): Promise<number> =>
  (await system.sql.query('select count(*)::int as n from triggers')).rows[0].n;

const newId = () => `msg_${randomUUID()}`;
const now = () => Math.floor(Date.now() / 1000);

/** A hook request signed with `secret` (or given headers), sent as raw bytes. */
function hook(
  name: string,
  body: string,
  secret: string,
  options: { id?: string; timestamp?: number; headers?: Record<string, string> } = {},
) {
  const headers =
    options.headers ?? webhookHeaders(secret, options.id ?? newId(), options.timestamp ?? now(), body);
  return request(system.url)
    .post(`/hooks/${name}`)
    .set({ 'content-type': 'application/json', ...headers })
    .send(body);
}

/** The audit rows a hook refusal left: who, from where, why. */
async function refusals(actor: string) {
  return (
    await system.sql.query(
      "select action, target, ip, outcome, status, key_id from audit_log where actor = $1 and action like 'hooks.%' order by at, id",
      [actor],
    )
  ).rows;
}

/** Audit rows are written after the answer: wait until `count` are there. */
async function waitForRefusals(actor: string, count: number) {
  for (let attempt = 0; attempt < 150; attempt += 1) {
    const rows = await refusals(actor);
    if (rows.length >= count) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return refusals(actor);
}

/** rpa_hook_requests_total{result} as /metrics shows it now (0 before the first). */
async function hookMetric(result: string): Promise<number> {
  const text = (await request(system.url).get('/metrics')).text;
  const line = text
    .split('\n')
    .find((entry) => entry.startsWith(`rpa_hook_requests_total{result="${result}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** The counter moves when the answer has gone (on `finish`): wait until it reaches `count`. */
async function hookMetricReaches(result: string, count: number): Promise<number> {
  let value = await hookMetric(result);
  for (let attempt = 0; attempt < 100 && value < count; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await hookMetric(result);
  }
  return value;
}

describe('/v1/triggers', () => {
  it('creates a trigger, shows its generated secret once, and stores it sealed', async () => {
    const res = await system.api.post('/v1/triggers').send({
      name: 'orders',
      robotType: 'demo',
      inputMapping: { pointers: { text: '/order/note' } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/v1/triggers/orders');
    expect(res.body).toMatchObject({
      name: 'orders',
      robotType: 'demo',
      priority: 'normal',
      inputMapping: { pointers: { text: '/order/note' } },
      hookPath: '/hooks/orders',
    });
    const secret: string = res.body.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const shown = await system.api.get('/v1/triggers/orders');
    expect(shown.status).toBe(200);
    expect(shown.body.secret).toBeUndefined();
    const listed = await system.api.get('/v1/triggers');
    expect(listed.body.items.map((item: { name: string }) => item.name)).toEqual(['orders']);
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(6, 20));
    const row = (await system.sql.query("select * from triggers where name = 'orders'")).rows[0];
    expect(JSON.stringify(row)).not.toContain(secret.slice(6, 20));
    expect(row.key_id).toBe('test');
    const audit = await system.sql.query(
      "select actor, status from audit_log where action = 'triggers.create' and target = 'orders'",
    );
    expect(audit.rows).toEqual([{ actor: expect.stringMatching(/^key:/), status: 201 }]);
  });

  it('refuses bad triggers with a 4xx naming the field, and stores nothing', async () => {
    const before = await triggerCount();
    const cases: [Record<string, unknown>, number, string][] = [
      [{ name: 'x1', robotType: 'no-such-type' }, 400, 'body.robotType'],
      [
        { name: 'x2', robotType: 'demo', inputMapping: { pointers: { text: 'order/note' } } },
        400,
        'body.inputMapping.pointers.text',
      ],
      [
        { name: 'x3', robotType: 'demo', inputMapping: { template: { text: '{{ input.note }}' } } },
        400,
        'body.inputMapping.template',
      ],
      [
        { name: 'x4', robotType: 'demo', inputMapping: { template: { text: '{{ body.note' } } },
        400,
        'body.inputMapping.template',
      ],
      [{ name: 'x5', robotType: 'demo', secret: 'plain-text-secret-123' }, 400, 'body.secret'],
      [{ name: 'X Y', robotType: 'demo' }, 400, 'body.name'],
      [{ name: 'x6', robotType: 'demo', mapping: {} }, 400, 'body'],
    ];
    for (const [body, status, field] of cases) {
      const res = await system.api.post('/v1/triggers').send(body);
      expect({ body, status: res.status }).toEqual({ body, status });
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.errors?.[0]?.field ?? '').toContain(field);
    }
    const duplicate = await system.api.post('/v1/triggers').send({ name: 'orders', robotType: 'demo' });
    expect(duplicate.status).toBe(409);
    expect(await triggerCount()).toBe(before);
  });

  it('is for admin keys only', async () => {
    const { key } = await system.security.keys.create({
      name: 'robots-only',
      scopes: ['robots:write', 'robots:read'],
      expiresAt: null,
    });
    const res = await request(system.url).get('/v1/triggers').set('authorization', `Bearer ${key}`);
    expect(res.status).toBe(403);
    const anonymous = await request(system.url)
      .post('/v1/triggers')
      .send({ name: 'sneaky', robotType: 'demo' });
    expect(anonymous.status).toBe(401);
  });

  it('updates a trigger: validation, a rotated secret shown once, the old one refused', async () => {
    const made = await system.api.post('/v1/triggers').send({ name: 'rotating', robotType: 'demo' });
    const oldSecret: string = made.body.secret;
    const bad = await system.api.patch('/v1/triggers/rotating').send({ robotType: 'no-such-type' });
    expect(bad.status).toBe(400);
    expect((await system.api.get('/v1/triggers/rotating')).body.robotType).toBe('demo');
    expect((await system.api.patch('/v1/triggers/nope').send({ priority: 'high' })).status).toBe(404);
    expect((await system.api.patch('/v1/triggers/rotating').send({})).status).toBe(400);

    const rotated = await system.api
      .patch('/v1/triggers/rotating')
      .send({ rotateSecret: true, priority: 'high' });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ name: 'rotating', priority: 'high' });
    const newSecret: string = rotated.body.secret;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    const body = JSON.stringify({ text: 'rotated' });
    expect((await hook('rotating', body, oldSecret)).status).toBe(401);
    const accepted = await hook('rotating', body, newSecret);
    expect(accepted.status).toBe(202);
    const robot = await system.sql.query('select priority, input_data from robots where robot_id = $1', [
      accepted.body.robotId,
    ]);
    expect(robot.rows).toEqual([{ priority: 'high', input_data: { text: 'rotated' } }]);

    const given = newWebhookSecret();
    const set = await system.api.patch('/v1/triggers/rotating').send({ secret: given });
    expect(set.body.secret).toBe(given);
  });

  it('is in the OpenAPI document: admin CRUD, and the hook open but signed', async () => {
    const doc = (await request(system.url).get('/openapi.json')).body;
    const create = doc.paths['/v1/triggers'].post;
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['name', 'robotType']);
    expect(create.responses['403']).toBeDefined();
    expect(Object.keys(doc.paths['/v1/triggers/{name}']).sort()).toEqual(['delete', 'get', 'patch']);
    const receive = doc.paths['/hooks/{name}'].post;
    expect(receive.security).toEqual([]);
    expect(receive.parameters.map((p: { name: string }) => p.name)).toEqual([
      'name',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    expect(Object.keys(receive.responses)).toEqual(
      expect.arrayContaining(['202', '401', '404', '413', '422', '429']),
    );
  });

  it('deletes a trigger: its hook then answers 404', async () => {
    const made = await system.api.post('/v1/triggers').send({ name: 'short-lived', robotType: 'demo' });
    expect((await system.api.delete('/v1/triggers/short-lived')).status).toBe(204);
    expect((await system.api.delete('/v1/triggers/short-lived')).status).toBe(404);
    expect((await hook('short-lived', '{"text":"x"}', made.body.secret)).status).toBe(404);
  });
});

describe('POST /hooks/<name>', () => {
  let secret = '';
  let triggerId = '';

  beforeAll(async () => {
    const made = await system.api.post('/v1/triggers').send({
      name: 'tickets',
      robotType: 'demo',
      inputMapping: { template: { text: 'Ticket {{ body.ticket.id }}: {{ body.ticket.subject }}' } },
    });
    expect(made.status).toBe(201);
    secret = made.body.secret;
    triggerId = made.body.triggerId;
  });

  it('starts one robot with the mapped input; a replay gets the same robot and no second run', async () => {
    const before = await robotCount();
    const [acceptedBefore, replayedBefore] = [await hookMetric('accepted'), await hookMetric('replayed')];
    const id = newId();
    const timestamp = now();
    const body = JSON.stringify({ ticket: { id: 7, subject: 'printer on fire' } });
    const first = await hook('tickets', body, secret, { id, timestamp });
    expect(first.status).toBe(202);
    const robotId: string = first.body.robotId;
    expect(robotId).toBe(uuidV5(`${triggerId}:${id}`, HOOK_ROBOT_NAMESPACE));
    expect(first.body).toEqual({ robotId, trigger: 'tickets', links: { robot: `/v1/robots/${robotId}` } });
    const row = await system.sql.query('select robot_type, input_data from robots where robot_id = $1', [
      robotId,
    ]);
    expect(row.rows).toEqual([{ robot_type: 'demo', input_data: { text: 'Ticket 7: printer on fire' } }]);
    const created = await system.sql.query(
      "select actor from audit_log where action = 'robots.create' and target = $1",
      [robotId],
    );
    expect(created.rows).toEqual([{ actor: 'trigger:tickets' }]);

    const handle = system.temporal.workflow.getHandle(robotId);
    await handle.result();
    const { runId } = await handle.describe();

    // The same delivery again (a sender's retry, or someone replaying it): the first robot, nothing new.
    const replay = await hook('tickets', body, secret, { id, timestamp });
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(first.body);
    // Re-signed with a new timestamp, as a retrying sender does: still the same robot.
    const retried = await hook('tickets', body, secret, { id });
    expect(retried.status).toBe(202);
    expect(retried.body.robotId).toBe(robotId);
    expect(await robotCount()).toBe(before + 1);
    expect((await handle.describe()).runId).toBe(runId);
    expect(await hookMetricReaches('accepted', acceptedBefore + 1)).toBe(acceptedBefore + 1);
    expect(await hookMetricReaches('replayed', replayedBefore + 2)).toBe(replayedBefore + 2);
    const view = await system.api.get(`/v1/robots/${robotId}`);
    expect(view.body).toMatchObject({
      status: 'completed',
      type: 'demo',
      input: { text: 'Ticket 7: printer on fire' },
    });
  }, 60_000);

  it('makes one robot of concurrent deliveries of one webhook-id; the id with another body is 409', async () => {
    const before = await robotCount();
    const id = newId();
    const body = JSON.stringify({ ticket: { id: 12, subject: 'twice at once' } });
    const answers = await Promise.all([1, 2, 3].map(() => hook('tickets', body, secret, { id })));
    expect(answers.map((res) => res.status)).toEqual([202, 202, 202]);
    const ids = new Set(answers.map((res) => res.body.robotId));
    expect(ids.size).toBe(1);
    expect(await robotCount()).toBe(before + 1);

    const other = JSON.stringify({ ticket: { id: 12, subject: 'something else' } });
    const reused = await hook('tickets', other, secret, { id });
    expect(reused.status).toBe(409);
    expect(reused.body.type).toBe('/problems/webhook-id-reused');
    expect(await waitForRefusals('trigger:tickets', 1)).toEqual([
      expect.objectContaining({
        action: 'hooks.webhook-id-reused',
        target: id,
        status: 409,
        outcome: 'failure',
      }),
    ]);
    expect(await robotCount()).toBe(before + 1);
    await system.temporal.workflow.getHandle([...ids][0] ?? '').result();
  }, 60_000);

  it('refuses bad signatures, stale or future timestamps and missing headers with 401, audited', async () => {
    const before = await robotCount();
    const body = JSON.stringify({ ticket: { id: 8, subject: 'x' } });
    const cases: [string, ReturnType<typeof hook>, string][] = [
      ['bad-signature', hook('tickets', body, newWebhookSecret(), { id: 'msg_bad_sig' }), 'msg_bad_sig'],
      [
        'stale-timestamp',
        hook('tickets', body, secret, { id: 'msg_stale', timestamp: now() - 301 }),
        'msg_stale',
      ],
      [
        'future-timestamp',
        hook('tickets', body, secret, { id: 'msg_future', timestamp: now() + 301 }),
        'msg_future',
      ],
      [
        'missing-headers',
        hook('tickets', body, secret, { headers: { 'webhook-id': 'msg_unsigned' } }),
        'msg_unsigned',
      ],
    ];
    for (const [reason, pending] of cases) {
      const res = await pending;
      expect({ reason, status: res.status }).toEqual({ reason, status: 401 });
      expect(res.body.type).toBe(`/problems/${reason}`);
    }
    // A body changed after signing.
    const headers = webhookHeaders(secret, 'msg_tampered', now(), body);
    const tampered = await hook('tickets', body.replace('"x"', '"y"'), secret, { headers });
    expect(tampered.status).toBe(401);
    expect(await hookMetricReaches('bad-signature', 2)).toBeGreaterThanOrEqual(2);
    expect(await robotCount()).toBe(before);

    const rows = await waitForRefusals('trigger:tickets', 6);
    expect(rows).toEqual(
      expect.arrayContaining([
        ...cases.map(([reason, , target]) => ({
          action: `hooks.${reason}`,
          target,
          ip: expect.stringMatching(/127\.0\.0\.1/),
          outcome: 'denied',
          status: 401,
          key_id: null,
        })),
        expect.objectContaining({ action: 'hooks.bad-signature', target: 'msg_tampered' }),
      ]),
    );
  });

  it('refuses input the mapping or the robot type cannot take with 422, and bad JSON with 400', async () => {
    const before = await robotCount();
    // The template has no value for ticket.subject.
    const unmapped = await hook('tickets', JSON.stringify({ ticket: { id: 9 } }), secret, {
      id: 'msg_unmapped',
    });
    expect(unmapped.status).toBe(422);
    expect(unmapped.body).toMatchObject({ type: '/problems/input-refused' });
    expect(unmapped.body.detail).toContain('{{body.ticket.subject}}');
    // demo's inputSchema wants a non-empty text; a pointer mapping can hand it a number.
    await system.api.post('/v1/triggers').send({
      name: 'raw-text',
      robotType: 'demo',
      inputMapping: { pointers: { text: '/value' } },
    });
    const rawSecret = (await system.api.patch('/v1/triggers/raw-text').send({ rotateSecret: true })).body
      .secret;
    const schema = await hook('raw-text', JSON.stringify({ value: 7 }), rawSecret, { id: 'msg_schema' });
    expect(schema.status).toBe(422);
    expect(schema.body.detail).toContain('inputSchema');
    const malformed = await hook('tickets', '{"ticket": ', secret, { id: 'msg_malformed' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.type).toBe('/problems/malformed-body');
    expect(await robotCount()).toBe(before);
    const tickets = await waitForRefusals('trigger:tickets', 8);
    expect(tickets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'hooks.input-refused', target: 'msg_unmapped', status: 422 }),
        expect.objectContaining({ action: 'hooks.malformed-body', target: 'msg_malformed', status: 400 }),
      ]),
    );
    expect(await waitForRefusals('trigger:raw-text', 1)).toEqual([
      expect.objectContaining({ action: 'hooks.input-refused', target: 'msg_schema', status: 422 }),
    ]);
  });

  it('refuses a body over HOOK_BODY_LIMIT with 413 and an unknown trigger with 404, audited', async () => {
    const before = await robotCount();
    const big = JSON.stringify({ ticket: { id: 10, subject: 'y'.repeat(3000) } });
    const tooLarge = await hook('tickets', big, secret, { id: 'msg_big' });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.type).toBe('/problems/body-too-large');
    const unknown = await hook('no-such-trigger', '{}', secret, { id: 'msg_unknown' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.type).toBe('/problems/unknown-trigger');
    expect(await robotCount()).toBe(before);
    expect(await waitForRefusals('trigger:no-such-trigger', 1)).toEqual([
      expect.objectContaining({ action: 'hooks.unknown-trigger', target: 'msg_unknown', status: 404 }),
    ]);
    // As docs/webhooks.md says: the audit API lists a trigger's refusals by actor.
    const listed = await system.api.get('/v1/audit').query({ actor: 'trigger:no-such-trigger' });
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        actor: 'trigger:no-such-trigger',
        action: 'hooks.unknown-trigger',
        status: 404,
      }),
    ]);
    expect(await waitForRefusals('trigger:tickets', 9)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'hooks.body-too-large', target: 'msg_big', status: 413 }),
      ]),
    );
  });

  it('is rate limited per address, and a 429 is audited', async () => {
    const { app } = system.appFor({ config: { RATE_LIMIT_PER_IP: 2 }, redis: false });
    const body = JSON.stringify({ ticket: { id: 11, subject: 'z' } });
    const statuses: number[] = [];
    for (const id of ['msg_rl_1', 'msg_rl_2', 'msg_rl_3']) {
      const res = await request(app)
        .post('/hooks/tickets')
        .set({ 'content-type': 'application/json', ...webhookHeaders(newWebhookSecret(), id, now(), body) })
        .send(body);
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
    const rows = await waitForRefusals('trigger:tickets', 12);
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'hooks.rate-limited',
          target: 'msg_rl_3',
          status: 429,
          outcome: 'rate-limited',
        }),
      ]),
    );
  });
});

// Seven CLI processes: each compiles (from cache) and starts, slow on a loaded machine.
describe('rpa triggers', () => {
  it('creates, lists, shows and deletes a trigger through the API; bad usage exits 2', async () => {
    const created = await runRpa(system, [
      'triggers',
      'create',
      'from-cli',
      '--robot-type',
      'demo',
      '--pointer',
      'text=/message',
      '--priority',
      'high',
    ]);
    expect(created.stderr).toContain('not shown again');
    expect(created.code).toBe(0);
    const made = JSON.parse(created.stdout);
    expect(made).toMatchObject({
      name: 'from-cli',
      robotType: 'demo',
      priority: 'high',
      inputMapping: { pointers: { text: '/message' } },
      secret: expect.stringMatching(/^whsec_/),
    });
    // The secret it printed signs hooks.
    const accepted = await hook('from-cli', JSON.stringify({ message: 'hi from cli' }), made.secret);
    expect(accepted.status).toBe(202);

    const listed = await runRpa(system, ['triggers', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^from-cli\s+demo\s+high\s+pointers\s+\/hooks\/from-cli$/m);
    const shown = await runRpa(system, ['triggers', 'show', 'from-cli']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'from-cli', triggerId: made.triggerId });
    expect(shown.stdout).not.toContain(made.secret);

    const badType = await runRpa(system, ['triggers', 'create', 'cli-bad', '--robot-type', 'no-such-type']);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toContain('unknown robot type');
    const badPointer = await runRpa(system, [
      'triggers',
      'create',
      'cli-bad',
      '-t',
      'demo',
      '--pointer',
      'nofield',
    ]);
    expect(badPointer.code).not.toBe(0);
    expect(badPointer.stderr).toContain('field=/json/pointer');
    expect((await system.api.get('/v1/triggers/cli-bad')).status).toBe(404);

    const deleted = await runRpa(system, ['triggers', 'delete', 'from-cli']);
    expect(deleted.code).toBe(0);
    expect((await runRpa(system, ['triggers', 'delete', 'from-cli'])).code).toBe(2);
    expect((await system.api.get('/v1/triggers/from-cli')).status).toBe(404);
  }, 120_000);
});

// Last: after it the system's own app no longer holds the key the trigger secrets are sealed under.
describe('key rotation', () => {
  it('re-seals trigger secrets under the new key; the same secret still verifies', async () => {
    const made = await system.api.post('/v1/triggers').send({
      name: 'rotated-key',
      robotType: 'demo',
      inputMapping: { pointers: { text: '/t' } },
    });
    const stale = (await system.sql.query("select count(*)::int as n from triggers where key_id = 'test'"))
      .rows[0].n;
    expect(stale).toBeGreaterThan(0);
    const keys = `${newKeyEntry('next')},${system.config.SECRETS_KEYS}`;
    const { app } = system.appFor({ config: { SECRETS_KEYS: keys }, redis: false });
    const rotated = await request(app)
      .post('/v1/secrets/rotate')
      .set('authorization', `Bearer ${system.adminKey}`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.reEncrypted).toBe(stale);
    const keyIds = await system.sql.query('select distinct key_id from triggers');
    expect(keyIds.rows).toEqual([{ key_id: 'next' }]);
    // Only the new key: the rows open, and the secret shown at creation still signs.
    const { app: newOnly } = system.appFor({ config: { SECRETS_KEYS: keys.split(',')[0] }, redis: false });
    const body = JSON.stringify({ t: 'after rotation' });
    const res = await request(newOnly)
      .post('/hooks/rotated-key')
      .set({ 'content-type': 'application/json', ...webhookHeaders(made.body.secret, newId(), now(), body) })
      .send(body);
    expect(res.status).toBe(202);
  });
});
