import request from 'supertest';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
let adminKeyId: string;

beforeAll(async () => {
  system = await startTestSystem();
  adminKeyId = (await system.sql.query("select id from api_keys where name = 'test-admin'")).rows[0].id;
});

afterAll(async () => {
  await system?.close();
});

interface AuditRow {
  key_id: string | null;
  actor: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  request_id: string;
  outcome: string;
  status: number;
}

/** The audit row of one request (written on `finish`, so it may trail the response a little). */
function auditRowOf(requestId: string): Promise<AuditRow> {
  return eventually(async () => {
    const rows = await system.sql.query('select * from audit_log where request_id = $1', [requestId]);
    return rows.rows.length > 0 ? (rows.rows[0] as AuditRow) : undefined;
  }, 5000);
}

let counter = 0;
const nextId = () => `audit-test-${process.pid}-${++counter}`;

describe('one audit row per mutating or refused request', () => {
  it('robots.create with the key, target, IP, request id, outcome and status', async () => {
    const id = nextId();
    const res = await system.api
      .post('/v1/robots')
      .set('x-request-id', id)
      .send({ type: 'demo', input: { text: 'invoice 1' } });
    expect(res.status).toBe(201);
    expect(await auditRowOf(id)).toMatchObject({
      key_id: adminKeyId,
      actor: `key:${adminKeyId}`,
      action: 'robots.create',
      target: res.body.robotId,
      ip: expect.stringMatching(/127\.0\.0\.1$/),
      outcome: 'success',
      status: 201,
    });
    await system.temporal.workflow.getHandle(res.body.robotId).result();
  });

  it.each([
    ['no key', 'get', '/v1/robots', {}, 401, 'robots.list', 'denied', false],
    [
      'a bad key',
      'post',
      '/v1/modules/x/drain',
      { 'x-api-key': 'nope' },
      401,
      'modules.drain',
      'denied',
      false,
    ],
    ['a refused body', 'post', '/v1/robots', {}, 400, 'robots.create', 'failure', true],
    ['an unknown module', 'delete', '/v1/modules/no-such', {}, 404, 'modules.delete', 'failure', true],
  ] as const)('%s -> %s %s', async (_name, method, path, headers, status, action, outcome, withKey) => {
    const id = nextId();
    const agent = withKey ? system.api : request(system.url);
    const res = await agent[method](path)
      .set({ ...headers, 'x-request-id': id })
      .send({ nope: 1 });
    expect(res.status).toBe(status);
    expect(await auditRowOf(id)).toMatchObject({
      key_id: withKey ? adminKeyId : null,
      actor: withKey ? `key:${adminKeyId}` : 'anonymous',
      action,
      outcome,
      status,
    });
  });

  it('a key without the scope -> denied, with the key id', async () => {
    const made = await system.api.post('/v1/keys').send({ name: 'reader', scopes: ['robots:read'] });
    expect((await auditRowOf(String(made.headers['x-request-id']))).action).toBe('keys.create');
    const id = nextId();
    const res = await request(system.url)
      .post('/v1/robots')
      .set({ authorization: `Bearer ${made.body.key}`, 'x-request-id': id })
      .send({ type: 'demo' });
    expect(res.status).toBe(403);
    expect(await auditRowOf(id)).toMatchObject({
      key_id: made.body.id,
      action: 'robots.create',
      outcome: 'denied',
    });
  });

  it('reads that succeed leave no row', async () => {
    const id = nextId();
    expect((await system.api.get('/v1/robots').set('x-request-id', id)).status).toBe(200);
    // A refused read after it does leave a row, written the same way; once that row is there, a row
    // for the first read (its write began earlier) would have had the time to appear too.
    const marker = nextId();
    expect((await request(system.url).get('/v1/robots').set('x-request-id', marker)).status).toBe(401);
    await auditRowOf(marker);
    expect((await system.sql.query('select 1 from audit_log where request_id = $1', [id])).rows).toEqual([]);
  });

  it('control characters in the path do not reach the row', async () => {
    const id = nextId();
    await system.api.delete('/v1/modules/%1B%5B31mred%E2%80%AE').set('x-request-id', id);
    const row = await auditRowOf(id);
    expect(row.target).toBe('[31mred');
  });
});

describe('the audit log is append-only', () => {
  it.each([
    ['update', "update audit_log set outcome = 'success'"],
    ['delete', 'delete from audit_log'],
    ['truncate', 'truncate audit_log'],
  ])('%s raises in the database', async (_name, statement) => {
    const before = (await system.sql.query('select count(*)::int as n from audit_log')).rows[0].n;
    await expect(system.sql.query(statement)).rejects.toThrow(/append-only/);
    expect((await system.sql.query('select count(*)::int as n from audit_log')).rows[0].n).toBe(before);
  });
});

describe('GET /v1/audit', () => {
  it('filters by key, action, outcome and time, and pages with a cursor', async () => {
    const denied = await system.api.get('/v1/audit?outcome=denied&limit=200');
    expect(denied.status).toBe(200);
    expect(denied.body.items.length).toBeGreaterThanOrEqual(3);
    expect(denied.body.items.every((row: AuditRow) => row.outcome === 'denied')).toBe(true);

    const mine = await system.api.get(`/v1/audit?keyId=${adminKeyId}&action=robots.create`);
    expect(mine.body.items.length).toBeGreaterThanOrEqual(2);
    expect(
      mine.body.items.every(
        (row: { keyId: string; action: string }) =>
          row.keyId === adminKeyId && row.action === 'robots.create',
      ),
    ).toBe(true);

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await system.api.get(`/v1/audit?from=${encodeURIComponent(future)}`)).body.items).toEqual([]);
    const all = (await system.api.get('/v1/audit?limit=200')).body.items as { id: string; at: string }[];
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: request.Response = await system.api.get(
        `/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((row: { id: string }) => row.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.slice(0, all.length)).toEqual(all.map((row) => row.id));
  });

  it.each(['limit=0', 'outcome=maybe', 'from=yesterday', 'keyId=1', "action=x'--", 'cursor=bm9wZQ', 'x=1'])(
    '%s -> 400',
    async (query) => {
      const res = await system.api.get(`/v1/audit?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('/problems/validation-error');
    },
  );

  it('needs admin', async () => {
    const made = await system.api.post('/v1/keys').send({ name: 'writer', scopes: ['robots:write'] });
    const res = await request(system.url).get('/v1/audit').set('authorization', `Bearer ${made.body.key}`);
    expect(res.status).toBe(403);
  });
});

describe('a failed audit write', () => {
  it('is logged and counted, and the request still succeeds', async () => {
    const { app, security } = system.appFor();
    security.audit.insert = async () => {
      throw new Error('audit storage is gone');
    };
    const res = await request(app)
      .post('/v1/keys')
      .set('authorization', `Bearer ${system.adminKey}`)
      .send({ name: 'still works', scopes: ['robots:read'] });
    expect(res.status).toBe(201);
    await eventually(async () => (security.stats.auditFailures === 1 ? true : undefined), 5000);
  });
});
