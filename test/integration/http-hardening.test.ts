import { Writable } from 'node:stream';
import pino from 'pino';
import request from 'supertest';
import { startApi } from '../../api/server';
import type { Config } from '../../core/config';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem();
});

afterAll(async () => {
  await system?.close();
});

function appWith(overrides: Partial<Config>, logger = pino({ level: 'silent' })) {
  return system.appFor({ config: overrides, logger, redis: false });
}

describe('headers', () => {
  it.each(['/health', '/v1/robots', '/openapi.json'])(
    '%s has helmet headers and no x-powered-by',
    async (path) => {
      const res = await system.api.get(path);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    },
  );
});

describe('CORS', () => {
  it('is off by default', async () => {
    const res = await request(system.url)
      .options('/v1/robots')
      .set('origin', 'https://evil.example')
      .set('access-control-request-method', 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows the configured origins only', async () => {
    const { app } = appWith({ CORS_ORIGINS: ['https://ops.example.com'] });
    const allowed = await request(app)
      .options('/v1/robots')
      .set('origin', 'https://ops.example.com')
      .set('access-control-request-method', 'POST')
      .set('access-control-request-headers', 'authorization,content-type');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ops.example.com');
    expect(allowed.headers['access-control-allow-headers']).toContain('authorization');
    const other = await request(app)
      .get('/v1/robots')
      .set('origin', 'https://evil.example')
      .set('authorization', `Bearer ${system.adminKey}`);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('server timeouts', () => {
  it('come from config', async () => {
    const api = await startApi(
      {
        ...system.config,
        PORT: 0,
        HTTP_REQUEST_TIMEOUT_MS: 12_345,
        HTTP_HEADERS_TIMEOUT_MS: 6789,
        HTTP_KEEP_ALIVE_TIMEOUT_MS: 4321,
      },
      pino({ level: 'silent' }),
    );
    try {
      expect(api.server.requestTimeout).toBe(12_345);
      expect(api.server.headersTimeout).toBe(6789);
      expect(api.server.keepAliveTimeout).toBe(4321);
    } finally {
      await api.close();
    }
  });
});

describe('an unexpected error', () => {
  it('answers a generic 500; the details go to the log only', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'error' },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const { app, security } = appWith({}, logger);
    security.keys.list = async () => {
      throw new Error('relation "api_keys" is broken at /srv/app/db.ts:42');
    };
    const res = await request(app).get('/v1/keys').set('authorization', `Bearer ${system.adminKey}`);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: '/problems/internal-error',
      title: 'Internal Server Error',
      status: 500,
      detail: 'An unexpected error occurred.',
      requestId: expect.any(String),
    });
    expect(JSON.stringify(res.body)).not.toContain('api_keys');
    expect(lines.join('')).toContain('relation \\"api_keys\\" is broken');
  });
});

describe('JSON bodies', () => {
  const post = (raw: string) =>
    system.api.post('/v1/robots').set('content-type', 'application/json').send(raw);

  it.each([
    ['a duplicate key', '{"type":"demo","type":"demo"}', 'body', 'duplicate key "type"'],
    ['__proto__', '{"type":"demo","input":{"__proto__":{"admin":true}}}', 'body.input', '"__proto__"'],
    ['an escaped __proto__', '{"type":"demo","input":{"\\u005f_proto__":{}}}', 'body.input', '"__proto__"'],
    [
      'constructor',
      '{"type":"demo","input":{"a":{"constructor":{"prototype":{}}}}}',
      'body.input.a',
      '"constructor"',
    ],
    ['prototype', '{"type":"demo","input":{"prototype":1}}', 'body.input', '"prototype"'],
    [
      '21 levels',
      `{"type":"demo","input":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}`,
      'body',
      'deeper than 20',
    ],
  ])('%s -> 400 naming the place', async (_name, raw, field, message) => {
    const res = await post(raw);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('/problems/validation-error');
    expect(res.body.errors[0].field.startsWith(field)).toBe(true);
    expect(res.body.errors[0].message).toContain(message);
  });

  it('20 levels are fine, and control characters are stripped from input text', async () => {
    const deep = `{"type":"demo","input":{"text":"a\\u001b[31mb\\u202ec\\u200bd\\u0000e\\tf","d":${'{"a":'.repeat(18)}1${'}'.repeat(18)}}}`;
    const res = await post(deep);
    expect(res.status).toBe(201);
    expect(res.body.input.text).toBe('a[31mbcde\tf');
    const row = await system.sql.query('select input_data from robots where robot_id = $1', [
      res.body.robotId,
    ]);
    expect(row.rows[0].input_data.text).toBe('a[31mbcde\tf');
    await system.temporal.workflow.getHandle(res.body.robotId).result();
  });
});
