import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { idempotencyKey } from '../../core/adapters/crypto/step-idempotency-key';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The http-request step end to end: robots of registered types run on the built-in module worker
// (real Temporal, Postgres, Redis) against a loopback server that records what it received.

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

const TOKEN = `Bearer tok-${randomUUID()}`;
let system: TestSystem;
let server: http.Server;
let base = '';
let received: Received[] = [];
const flakyCalls = new Map<string, number>();

function answer(req: Received, res: http.ServerResponse): void {
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const path = new URL(req.url, base).pathname;
  if (path.startsWith('/old/customers/')) {
    res.writeHead(301, { location: path.replace('/old', '') });
    res.end();
  } else if (path.startsWith('/customers/')) {
    json(200, { name: 'Ana & Co', account: { id: 'acc-7', open: true } });
  } else if (path === '/accounts/acc-7/orders' && req.method === 'POST') {
    json(201, { id: 'ord-1', lines: [{ sku: 'x' }] });
  } else if (path.startsWith('/confirmations/') && req.method === 'PUT') {
    res.writeHead(204);
    res.end();
  } else if (path.startsWith('/flaky/')) {
    const calls = (flakyCalls.get(path) ?? 0) + 1;
    flakyCalls.set(path, calls);
    if (calls === 1) json(503, { error: 'busy' }, { 'retry-after': '2' });
    else json(200, { ok: true, calls });
  } else if (path === '/redirect-out') {
    // A hop to a loopback address that is not allow-listed (only 127.0.0.1 is).
    res.writeHead(302, {
      location: `http://127.0.0.2:${(server.address() as AddressInfo).port}/customers/x`,
    });
    res.end();
  } else if (path === '/big') {
    json(200, { data: 'x'.repeat(4000) });
  } else {
    json(404, { error: 'no such customer', hint: 'y'.repeat(5000) });
  }
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(entry);
      answer(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  system = await startTestSystem({ env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1' } });
  const secret = await system.api.post('/v1/secrets').send({ name: 'crm-token', value: TOKEN });
  expect(secret.status).toBe(201);
  const types = [
    {
      name: 'crm-order',
      steps: [
        {
          name: 'lookup',
          kind: 'http-request',
          params: {
            url: `${base}/old/customers/{{input.customerId}}`,
            pick: { accountId: '/account/id', name: '/name', nothing: '/account/closedAt' },
          },
        },
        {
          name: 'create-order',
          kind: 'http-request',
          params: {
            method: 'POST',
            url: `${base}/accounts/{{previous.lookup.accountId}}/orders?ref={{input.ref}}`,
            headers: { Authorization: { $secret: 'crm-token' }, 'X-Robot': '{{robotId}}' },
            body: { amount: '{{input.amount}}', note: 'for {{previous.lookup.name}}', lines: [{ sku: 'x' }] },
            pick: { orderId: '/id', firstSku: '/lines/0/sku' },
          },
        },
        {
          name: 'confirm',
          kind: 'http-request',
          params: {
            method: 'PUT',
            url: `${base}/confirmations/{{previous.create-order.orderId}}`,
            headers: { 'Idempotency-Key': 'confirm-{{input.ref}}' },
            form: { status: 'done', amount: '{{input.amount}}', urgent: false },
          },
        },
      ],
    },
    {
      name: 'crm-missing',
      steps: [{ name: 'get', kind: 'http-request', params: { url: `${base}/missing` } }],
    },
    {
      name: 'crm-flaky',
      steps: [
        {
          name: 'get',
          kind: 'http-request',
          params: { url: `${base}/flaky/{{robotId}}`, pick: { calls: '/calls' } },
          // Backoff of 0.1 s: a second call two seconds later can only be the Retry-After.
          retry: { maximumAttempts: 3, initialIntervalSeconds: 0.1, maximumIntervalSeconds: 0.2 },
        },
      ],
    },
    {
      name: 'crm-metadata',
      steps: [
        { name: 'get', kind: 'http-request', params: { url: 'http://169.254.169.254/latest/meta-data/' } },
      ],
    },
    {
      name: 'crm-redirect-out',
      steps: [{ name: 'get', kind: 'http-request', params: { url: `${base}/redirect-out` } }],
    },
    {
      name: 'crm-big',
      steps: [{ name: 'get', kind: 'http-request', params: { url: `${base}/big`, maxResponseBytes: 1024 } }],
    },
  ];
  for (const type of types) {
    const registered = await system.api.post('/v1/robot-types').send(type);
    expect(registered.status).toBe(201);
  }
}, 60_000);

afterAll(async () => {
  await system?.close();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

async function run(type: string, input: Record<string, unknown> = {}) {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  const robotId: string = created.body.robotId;
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return ['completed', 'failed', 'parked'].includes(res.body.status) ? res.body : undefined;
  }, 45_000);
}

/** The step activity's last failure and attempt, from the robot's workflow history. */
async function activityOutcome(robotId: string) {
  const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
  const failed = history.events?.find((event) => event.activityTaskFailedEventAttributes);
  const started = history.events?.filter((event) => event.activityTaskStartedEventAttributes).at(-1);
  return {
    failure: failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo,
    attempt: started?.activityTaskStartedEventAttributes?.attempt,
  };
}

describe('http-request step', () => {
  it('sends the templated requests with the secret, the Idempotency-Key and the bodies, and picks the output', async () => {
    const robot = await run('crm-order', { customerId: 'c 1/2', ref: 'R&D-9', amount: 12.5 });
    expect(robot.status).toBe('completed');
    const robotId: string = robot.robotId;

    // The lookup followed a same-origin redirect; the encoded id stayed one path segment.
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /old/customers/c%201%2F2',
      'GET /customers/c%201%2F2',
      'POST /accounts/acc-7/orders?ref=R%26D-9',
      'PUT /confirmations/ord-1',
    ]);
    const [lookup, , order, confirm] = received;
    expect(lookup?.headers['idempotency-key']).toBe(idempotencyKey(robotId, 'lookup'));
    expect(lookup?.headers['user-agent']).toBe('rpa-orchestrator-http-step/1');
    expect(order?.headers).toMatchObject({
      authorization: TOKEN,
      'x-robot': robotId,
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey(robotId, 'create-order'),
    });
    expect(JSON.parse(order?.body ?? '')).toEqual({
      amount: 12.5,
      note: 'for Ana & Co',
      lines: [{ sku: 'x' }],
    });
    expect(confirm?.headers['idempotency-key']).toBe('confirm-R&D-9');
    expect(confirm?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // Stored as jsonb, a definition keeps its keys but not their order.
    expect(Object.fromEntries(new URLSearchParams(confirm?.body))).toEqual({
      status: 'done',
      amount: '12.5',
      urgent: 'false',
    });

    // Picked fields only (a pointer that finds nothing leaves its field out); no pick: the body.
    expect(robot.output).toEqual({
      lookup: { status: 200, accountId: 'acc-7', name: 'Ana & Co' },
      'create-order': { status: 201, orderId: 'ord-1', firstSku: 'x' },
      confirm: { status: 204, body: null },
    });
    // The secret went to the server only: not into the robot, its outputs or its history.
    expect(JSON.stringify(robot)).not.toContain(TOKEN);
    const history = historyToJSON(await system.temporal.workflow.getHandle(robotId).fetchHistory());
    // Payloads are base64 in history: decoded, the search sees what Temporal stored (the outputs too).
    const decoded = [...history.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)]
      .map((match) => Buffer.from(match[1] ?? '', 'base64').toString('utf8'))
      .join('\n');
    expect(decoded).toContain('ord-1');
    expect(`${history}\n${decoded}`).not.toContain(TOKEN.slice(7));
  }, 60_000);

  it('fails the robot at once on a 4xx it does not accept, with the status and a short excerpt', async () => {
    const robot = await run('crm-missing');
    expect(robot.status).toBe('failed');
    expect(robot.error).toMatch(
      new RegExp(
        `^http-request: GET ${base}/missing answered 404 Not Found: \\{"error":"no such customer","hint":"y+…$`,
      ),
    );
    expect(robot.error.length).toBeLessThan(450);
    expect(received).toHaveLength(1);
    expect(await activityOutcome(robot.robotId)).toEqual({
      failure: expect.objectContaining({ type: 'HttpStatusRefused', nonRetryable: true }),
      attempt: 1,
    });
  }, 60_000);

  it('retries a 503 after its Retry-After, with the same Idempotency-Key, and succeeds', async () => {
    const robot = await run('crm-flaky');
    expect(robot.status).toBe('completed');
    expect(robot.output).toEqual({ get: { status: 200, calls: 2 } });
    expect(received).toHaveLength(2);
    const [first, second] = received;
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
    expect(first?.headers['idempotency-key']).toBe(idempotencyKey(robot.robotId, 'get'));
    // Retry-After: 2 replaced the policy's 0.1 s backoff.
    const gap = (second?.at ?? 0) - (first?.at ?? 0);
    expect(gap).toBeGreaterThanOrEqual(1900);
    expect(gap).toBeLessThan(10_000);
    expect((await activityOutcome(robot.robotId)).attempt).toBe(2);
  }, 60_000);

  it.each([
    ['crm-metadata', '169.254.169.254 resolves to a private, loopback, link-local or metadata address', 0],
    ['crm-redirect-out', '127.0.0.2 resolves to a private, loopback, link-local or metadata address', 1],
  ])(
    'fails %s clearly when the target (or a redirect hop) is refused, never retried',
    async (type, reason, calls) => {
      const robot = await run(type);
      expect(robot.status).toBe('failed');
      expect(robot.error).toContain(reason);
      expect(robot.error).toContain('allow it with HTTP_STEP_ALLOWED_HOSTS');
      expect(received).toHaveLength(calls);
      expect(await activityOutcome(robot.robotId)).toEqual({
        failure: expect.objectContaining({ type: 'HttpTargetRefused', nonRetryable: true }),
        attempt: 1,
      });
    },
    60_000,
  );

  it('fails a response over maxResponseBytes without keeping it', async () => {
    const robot = await run('crm-big');
    expect(robot.status).toBe('failed');
    expect(robot.error).toBe(`http-request: GET ${base}/big: the response is larger than 1024 bytes`);
    expect((await activityOutcome(robot.robotId)).failure).toMatchObject({ type: 'HttpResponseTooLarge' });
  }, 60_000);

  it('refuses a type with bad http-request params at registration, naming the field', async () => {
    const res = await system.api.post('/v1/robot-types').send({
      name: 'crm-bad',
      steps: [
        {
          name: 'get',
          kind: 'http-request',
          params: { url: `${base}/x`, pick: { id: 'id' }, acceptStatus: ['2xx', 700] },
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field: string }) => error.field).sort()).toEqual([
      'body.steps.0.params.acceptStatus.1',
      'body.steps.0.params.pick.id',
    ]);
  });
});
