import { spawn } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');

beforeAll(async () => {
  system = await startTestSystem({
    env: { API_KEY_CACHE_SECONDS: '1', API_KEY_LAST_USED_INTERVAL_SECONDS: '1' },
  });
});

afterAll(async () => {
  await system?.close();
});

function expectProblem(res: request.Response, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `/problems/${type}`, status });
}

async function makeKey(scopes: string[], expires?: string): Promise<{ id: string; key: string }> {
  const res = await system.api
    .post('/v1/keys')
    .send({ name: `test ${scopes.join(' ')}`, scopes, ...(expires ? { expires } : {}) });
  expect(res.status).toBe(201);
  return { id: res.body.id, key: res.body.key };
}

const as = (key: string) => ({ authorization: `Bearer ${key}` });

describe('without a valid key', () => {
  it.each([
    ['no key', {}, 'missing'],
    ['an empty bearer', { authorization: 'Bearer ' }, 'missing'],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'missing'],
    ['a malformed key', { authorization: 'Bearer not-a-key' }, 'malformed'],
    ['a made-up key', as(`rpa_abcdefgh_${'A'.repeat(43)}`), 'unknown'],
    ['a made-up X-API-Key', { 'x-api-key': `rpa_abcdefgh_${'B'.repeat(43)}` }, 'unknown'],
  ])('%s -> 401 problem', async (_name, headers, reason) => {
    const res = await request(system.url).get('/v1/robots').set(headers);
    expectProblem(res, 401, 'unauthorized');
    expect(res.body.reason).toBe(reason);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('every /v1 route is closed, including unknown ones', async () => {
    for (const [method, route] of [
      ['post', '/v1/robots'],
      ['get', '/v1/modules'],
      ['delete', '/v1/modules/x'],
      ['get', '/v1/keys'],
      ['get', '/v1/nothing-here'],
    ] as const) {
      expectProblem(await request(system.url)[method](route), 401, 'unauthorized');
    }
    expect(Number((await system.sql.query('select count(*)::int as n from robots')).rows[0].n)).toBe(0);
  });

  it('leaves /health and /openapi.json open, and the document says so', async () => {
    expect([200, 503]).toContain((await request(system.url).get('/health')).status);
    const doc = await request(system.url).get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    expect(doc.body.security).toEqual([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.body.paths['/health'].get.security).toEqual([]);
    expect(doc.body.paths['/v1/robots'].post.responses['401']).toBeDefined();
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/keys', '/v1/keys/{id}']));
  });
});

describe('scopes', () => {
  it('a robots:read key reads robots but may not create them or touch modules or keys', async () => {
    const { key } = await makeKey(['robots:read']);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);
    const create = await request(system.url)
      .post('/v1/robots')
      .set(as(key))
      .send({ type: 'demo', input: { text: 'x' } });
    expectProblem(create, 403, 'forbidden');
    expect(create.body.requiredScope).toBe('robots:write');
    expectProblem(await request(system.url).get('/v1/modules').set(as(key)), 403, 'forbidden');
    expectProblem(await request(system.url).get('/v1/keys').set(as(key)), 403, 'forbidden');
    expect(Number((await system.sql.query('select count(*)::int as n from robots')).rows[0].n)).toBe(0);
  });

  it('a robots:write key (X-API-Key) creates a robot that records the key', async () => {
    const { id, key } = await makeKey(['robots:write', 'robots:read']);
    const res = await request(system.url)
      .post('/v1/robots')
      .set('x-api-key', key)
      .send({ type: 'demo', input: { text: 'invoice total 1' } });
    expect(res.status).toBe(201);
    const row = await system.sql.query('select created_by_key_id from robots where robot_id = $1', [
      res.body.robotId,
    ]);
    expect(row.rows[0].created_by_key_id).toBe(id);
    await system.temporal.workflow.getHandle(res.body.robotId).result();
  });

  it('admin implies every scope', async () => {
    expect((await system.api.get('/v1/modules')).status).toBe(200);
    expect((await system.api.get('/v1/robots')).status).toBe(200);
  });
});

describe('key lifecycle', () => {
  it('lists keys without their secret and records the last use', async () => {
    const { id, key } = await makeKey(['modules:read']);
    expect((await request(system.url).get('/v1/modules').set(as(key))).status).toBe(200);
    const used = await eventually(async () => {
      const listed = await system.api.get('/v1/keys');
      const found = listed.body.items.find((item: { id: string }) => item.id === id);
      return found?.lastUsedAt ? found : undefined;
    }, 10_000);
    expect(used).toMatchObject({ name: 'test modules:read', scopes: ['modules:read'], revokedAt: null });
    expect(JSON.stringify((await system.api.get('/v1/keys')).body)).not.toContain(key.slice(13));
    expect(used).not.toHaveProperty('hash');
    const stored = await system.sql.query('select hash from api_keys where id = $1', [id]);
    expect(stored.rows[0].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.rows[0].hash).not.toContain(key);
  });

  it('an expired key -> 401 expired', async () => {
    const { key } = await system.security.keys.create({
      name: 'old',
      scopes: ['admin'],
      expiresAt: new Date(Date.now() - 1000),
    });
    const res = await request(system.url).get('/v1/robots').set(as(key));
    expectProblem(res, 401, 'unauthorized');
    expect(res.body.reason).toBe('expired');
  });

  it('a key made with expires works until then', async () => {
    const { key } = await makeKey(['robots:read'], '1m');
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);
  });

  it('DELETE /v1/keys/:id revokes at once; an unknown id is 404', async () => {
    const { id, key } = await makeKey(['robots:read']);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);
    const revoked = await system.api.delete(`/v1/keys/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    const res = await request(system.url).get('/v1/robots').set(as(key));
    expectProblem(res, 401, 'unauthorized');
    expect(res.body.reason).toBe('revoked');
    expectProblem(await system.api.delete('/v1/keys/00000000-0000-4000-8000-000000000000'), 404, 'not-found');
    expectProblem(await system.api.delete('/v1/keys/nope'), 400, 'validation-error');
  });

  it('a revoke made elsewhere (another replica, the CLI) takes effect within the cache time', async () => {
    const { id, key } = await makeKey(['robots:read']);
    expect((await request(system.url).get('/v1/robots').set(as(key))).status).toBe(200);
    await system.sql.query('update api_keys set revoked_at = now() where id = $1', [id]);
    const started = Date.now();
    await eventually(async () => {
      const res = await request(system.url).get('/v1/robots').set(as(key));
      return res.status === 401 ? res : undefined;
    }, 5000);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it.each([
    [{ name: 'x', scopes: ['root'] }, 'body.scopes.0'],
    [{ name: 'x', scopes: [] }, 'body.scopes'],
    [{ name: '', scopes: ['admin'] }, 'body.name'],
    [{ name: 'x\u202e', scopes: ['admin'] }, 'body.name'],
    [{ name: 'x', scopes: ['admin'], expires: 'forever' }, 'body.expires'],
  ])('POST /v1/keys %j -> 400', async (body, field) => {
    const res = await system.api.post('/v1/keys').send(body);
    expectProblem(res, 400, 'validation-error');
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(field);
  });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [rpa, ...args], {
      env: { ...process.env, DATABASE_URL: system.config.DATABASE_URL, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rpa keys', () => {
  it('create prints the key once, list shows it, revoke closes it', async () => {
    const created = await run([
      'keys',
      'create',
      '--name',
      'cli',
      '--scopes',
      'robots:read',
      '--expires',
      '90d',
    ]);
    expect(created.code).toBe(0);
    const made = JSON.parse(created.stdout);
    expect(made.key).toMatch(/^rpa_[a-z0-9]{8}_/);
    expect(Date.parse(made.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect((await request(system.url).get('/v1/robots').set(as(made.key))).status).toBe(200);

    const listed = await run(['keys', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(made.key);
    expect(JSON.parse(listed.stdout).map((key: { id: string }) => key.id)).toContain(made.id);

    const revoked = await run(['keys', 'revoke', made.id]);
    expect(revoked.code).toBe(0);
    await eventually(async () => {
      const res = await request(system.url).get('/v1/robots').set(as(made.key));
      return res.status === 401 ? res : undefined;
    }, 5000);
  }, 60_000);

  it('refuses unknown scopes and bad durations with exit code 2', async () => {
    expect((await run(['keys', 'create', '--name', 'x', '--scopes', 'root'])).code).toBe(2);
    expect((await run(['keys', 'create', '--name', 'x', '--scopes', 'admin', '--expires', '3y'])).code).toBe(
      2,
    );
    expect((await run(['keys', 'revoke', 'nope'])).code).toBe(2);
  }, 60_000);
});
