import { idempotencyKey } from '../../core/adapters/crypto/step-idempotency-key';
import {
  bodyExcerpt,
  jsonPointer,
  pickFields,
  planHttpRequest,
  retryAfterMs,
  statusRanges,
  statusVerdict,
} from '../../core/domain/http-request.plan';
import { robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { httpRequestParamsSchema } from '../../core/domain/step-params';
import { renderJson, TemplateError } from '../../core/domain/template';

const register = (params: Record<string, unknown>, step: Record<string, unknown> = {}) =>
  robotTypeRegistrationSchema.safeParse({
    name: 'calls',
    steps: [{ name: 'call', kind: 'http-request', params, ...step }],
  });

/** The registration problems as `path: message`, like the API's errors[] shows them. */
const problems = (params: Record<string, unknown>, step: Record<string, unknown> = {}): string[] => {
  const result = register(params, step);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('http-request params at registration', () => {
  it('accepts a full request and fills in the defaults', () => {
    expect(
      problems({
        method: 'POST',
        url: 'https://crm.example.com/customers/{{input.id}}',
        headers: { Authorization: { $secret: 'crm-token' }, 'X-Ref': '{{robotId}}' },
        body: { name: '{{input.name}}', amount: '{{input.amount}}' },
        timeoutSeconds: 10,
        acceptStatus: ['2xx', 409, '300-304'],
        pick: { customerId: '/data/id', first: '/items/0' },
        maxResponseBytes: 4096,
      }),
    ).toEqual([]);
    expect(httpRequestParamsSchema.parse({ url: 'http://x.example/' })).toEqual({
      method: 'GET',
      url: 'http://x.example/',
      headers: {},
      timeoutSeconds: 30,
      acceptStatus: ['2xx'],
      maxResponseBytes: 256 * 1024,
    });
  });

  it.each([
    [{}, 'steps.0.params.url: '],
    [{ url: 'ftp://files.example.com/x' }, 'steps.0.params.url: must start with http:// or https://'],
    [{ url: '{{input.url}}' }, 'steps.0.params.url: must start with http:// or https://'],
    [{ url: 'http://a.example/', method: 'TRACE' }, 'steps.0.params.method: '],
    [{ url: 'http://a.example/', body: { a: 1 } }, 'steps.0.params.method: a GET request has no body'],
    [
      { url: 'http://a.example/', method: 'POST', body: {}, form: { a: 'b' } },
      'steps.0.params.form: body and form are exclusive',
    ],
    [
      { url: 'http://a.example/', headers: { Host: 'evil' } },
      'steps.0.params.headers.Host: may not set Host',
    ],
    [
      { url: 'http://a.example/', headers: { 'Bad Name': 'x' } },
      'steps.0.params.headers.Bad Name: not a header',
    ],
    [
      { url: 'http://a.example/', acceptStatus: ['2xx', '299-200'] },
      'steps.0.params.acceptStatus.1: the range must not run backwards',
    ],
    [{ url: 'http://a.example/', acceptStatus: [600] }, 'steps.0.params.acceptStatus.0: a status from 100'],
    [{ url: 'http://a.example/', acceptStatus: ['2XX'] }, 'steps.0.params.acceptStatus.0: a status (204)'],
    [{ url: 'http://a.example/', pick: { status: '/x' } }, 'steps.0.params.pick.status: status and body are'],
    [{ url: 'http://a.example/', pick: { id: 'data/id' } }, 'steps.0.params.pick.id: a JSON Pointer'],
    [{ url: 'http://a.example/', maxResponseBytes: 2 * 1024 * 1024 }, 'steps.0.params.maxResponseBytes: '],
    [{ url: 'http://a.example/', timeoutSeconds: 0 }, 'steps.0.params.timeoutSeconds: '],
    [{ url: 'http://a.example/', retries: 3 }, 'steps.0.params: '],
  ])('refuses %j naming the field', (params, expected) => {
    const found = problems(params);
    expect(found.some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it("refuses a request timeout longer than the step's own", () => {
    expect(problems({ url: 'http://a.example/', timeoutSeconds: 90 })).toEqual([
      "steps.0.params.timeoutSeconds: must not exceed the step's timeoutSeconds (60)",
    ]);
    expect(problems({ url: 'http://a.example/', timeoutSeconds: 90 }, { timeoutSeconds: 120 })).toEqual([]);
  });
});

describe('planHttpRequest', () => {
  const data = {
    robotId: 'r-1',
    input: { id: 'a b/../c?x=1', amount: 12.5, name: 'Ana', tags: ['x'] },
    previous: { lookup: { accountId: 'acc-7' } },
  };
  const params = (extra: Record<string, unknown>) =>
    httpRequestParamsSchema.parse({ url: 'https://api.example.com/', ...extra });

  it('percent-encodes URL values so they cannot add segments, a query or a host', () => {
    const planned = planHttpRequest(
      params({
        url: 'https://api.example.com/accounts/{{previous.lookup.accountId}}/c/{{input.id}}?n={{input.name}}',
      }),
      data,
      'key',
    );
    expect(planned.url.href).toBe('https://api.example.com/accounts/acc-7/c/a%20b%2F..%2Fc%3Fx%3D1?n=Ana');
    // Encoded, a value with / or ? makes no valid host: the step fails instead of calling elsewhere.
    expect(() => planHttpRequest(params({ url: 'https://{{input.id}}.example.com/' }), data, 'k')).toThrow(
      'url is not a valid URL once filled in',
    );
    expect(
      planHttpRequest(params({ url: 'https://{{input.name}}.example.com/' }), data, 'k').url.hostname,
    ).toBe('ana.example.com');
  });

  it('sends JSON with typed whole-placeholder values, default headers and the idempotency key', () => {
    const planned = planHttpRequest(
      params({
        method: 'POST',
        headers: { 'X-Robot': '{{robotId}}' },
        body: { amount: '{{input.amount}}', tags: '{{input.tags}}', note: 'for {{input.name}}', n: 1 },
      }),
      data,
      'idem-1',
    );
    expect(JSON.parse(planned.body ?? '')).toEqual({ amount: 12.5, tags: ['x'], note: 'for Ana', n: 1 });
    expect(planned.headers).toEqual({
      'X-Robot': 'r-1',
      'Content-Type': 'application/json',
      Accept: 'application/json, */*;q=0.5',
      'User-Agent': 'rpa-orchestrator-http-step/1',
      'Idempotency-Key': 'idem-1',
    });
  });

  it('keeps headers the params set, whatever their case, and url-encodes a form', () => {
    const planned = planHttpRequest(
      params({
        method: 'PUT',
        headers: {
          'idempotency-key': 'mine-{{robotId}}',
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        },
        form: { name: '{{input.name}} & co', count: 3, ok: true },
      }),
      data,
      'derived',
    );
    expect(planned.body).toBe('name=Ana+%26+co&count=3&ok=true');
    expect(planned.headers['idempotency-key']).toBe('mine-r-1');
    expect(planned.headers['Idempotency-Key']).toBeUndefined();
    expect(planned.headers['Content-Type']).toBeUndefined();
  });

  it('fails on a placeholder without a value, a line break in a header or an unresolved secret', () => {
    expect(() => planHttpRequest(params({ url: 'https://a.example/{{input.nope}}' }), data, 'k')).toThrow(
      'no value for {{input.nope}}',
    );
    expect(() =>
      planHttpRequest(
        params({ headers: { 'X-A': '{{input.name}}' } }),
        { ...data, input: { name: 'a\r\nB: c' } },
        'k',
      ),
    ).toThrow('header X-A would hold a line break');
    expect(() => planHttpRequest(params({ headers: { 'X-Key': { $secret: 'k' } } }), data, 'k')).toThrow(
      TemplateError,
    );
  });

  it('renderJson never reads the prototype chain and refuses a null value', () => {
    expect(() => renderJson('{{input.constructor}}', data)).toThrow('no value for {{input.constructor}}');
    expect(() => renderJson({ a: '{{input.missing}}' }, data)).toThrow(TemplateError);
  });
});

describe('status matching', () => {
  it('reads classes, ranges and single statuses', () => {
    expect(statusRanges(['2xx', 409, '300-304'])).toEqual([
      { from: 200, to: 299 },
      { from: 409, to: 409 },
      { from: 300, to: 304 },
    ]);
  });

  it.each([
    [200, ['2xx'], 'accepted'],
    [299, ['2xx'], 'accepted'],
    [404, ['2xx'], 'refused'],
    [404, ['2xx', 404], 'accepted'],
    [302, ['2xx'], 'refused'],
    [304, ['300-304'], 'accepted'],
    [408, ['2xx'], 'retry'],
    [429, ['2xx'], 'retry'],
    [500, ['2xx'], 'retry'],
    [503, ['2xx'], 'retry'],
    [503, ['5xx'], 'accepted'],
    [400, ['200-299'], 'refused'],
  ] as const)('%i with %j is %s', (status, accept, verdict) => {
    expect(statusVerdict(status, statusRanges(accept))).toBe(verdict);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

describe('picking from the response', () => {
  const doc = { data: { id: 'c-1', 'a/b': 1, 'm~n': 2, items: [{ sku: 'x' }] }, zero: 0 };

  it('follows RFC 6901 pointers, escapes included', () => {
    expect(jsonPointer(doc, '')).toBe(doc);
    expect(jsonPointer(doc, '/data/id')).toBe('c-1');
    expect(jsonPointer(doc, '/data/a~1b')).toBe(1);
    expect(jsonPointer(doc, '/data/m~0n')).toBe(2);
    expect(jsonPointer(doc, '/data/items/0/sku')).toBe('x');
    expect(jsonPointer(doc, '/zero')).toBe(0);
    expect(jsonPointer(doc, '/data/items/01')).toBeUndefined();
    expect(jsonPointer(doc, '/data/items/-')).toBeUndefined();
    expect(jsonPointer(doc, '/data/constructor')).toBeUndefined();
    expect(jsonPointer(doc, '/data/id/length')).toBeUndefined();
  });

  it('keeps the fields found and names the missing', () => {
    expect(pickFields(doc, { id: '/data/id', sku: '/data/items/0/sku', nope: '/data/nope' })).toEqual({
      fields: { id: 'c-1', sku: 'x' },
      missing: ['nope'],
    });
  });

  it('bounds the body excerpt of an error message to one short line', () => {
    expect(bodyExcerpt(Buffer.from('{"error":\n  "no such customer"}'))).toBe(
      '{"error": "no such customer"}',
    );
    const long = bodyExcerpt(Buffer.from('x'.repeat(10_000)));
    expect(long).toHaveLength(301);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('idempotency key', () => {
  it('is a UUID stable per robot and step and different across them', () => {
    const key = idempotencyKey('0b7e4e0e-1c1f-4a43-9a55-5b2f0b6c0d9e', 'create-order');
    expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotencyKey('0b7e4e0e-1c1f-4a43-9a55-5b2f0b6c0d9e', 'create-order')).toBe(key);
    expect(idempotencyKey('0b7e4e0e-1c1f-4a43-9a55-5b2f0b6c0d9e', 'lookup')).not.toBe(key);
    expect(idempotencyKey('1b7e4e0e-1c1f-4a43-9a55-5b2f0b6c0d9e', 'create-order')).not.toBe(key);
  });
});
