import type { Server } from 'node:http';
import request from 'supertest';
import { parseConfig } from '../../core/config';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The IP a request is rate-limited and audited under is Express's req.ip under TRUST_PROXY; a client
// must not pick it with X-Forwarded-For. Real HTTP on loopback: the test is the client, and where a
// proxy is in play the header is what that proxy would have passed on (`spoofed, <what it saw>`).

const PER_IP = 3;
let system: TestSystem;
const servers: Server[] = [];

beforeAll(async () => {
  system = await startTestSystem({
    module: false,
    env: { RATE_LIMIT_WINDOW_SECONDS: '600', RATE_LIMIT_PER_IP: String(PER_IP) },
  });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await system?.close();
});

/** An app with TRUST_PROXY as the environment would give it, listening on 127.0.0.1, with a limiter of its own. */
async function serverTrusting(trustProxy: string | undefined): Promise<string> {
  const env = trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy };
  // In-memory limiter: each app counts alone, from its first request (a Redis connection still being
  // made would send that request to the fallback store and split the count).
  const { app } = system.appFor({ config: { TRUST_PROXY: parseConfig(env).TRUST_PROXY }, redis: false });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

let counter = 0;

/** An unauthenticated GET (limited per IP, audited when refused) with this X-Forwarded-For. */
async function call(url: string, forwardedFor: string): Promise<{ status: number; auditedIp: string }> {
  const requestId = `client-ip-${process.pid}-${++counter}`;
  const res = await request(url)
    .get('/v1/robots')
    .set('x-forwarded-for', forwardedFor)
    .set('x-request-id', requestId);
  const auditedIp = await eventually(async () => {
    const rows = await system.sql.query('select ip from audit_log where request_id = $1', [requestId]);
    return rows.rows[0]?.ip as string | undefined;
  }, 5000);
  return { status: res.status, auditedIp };
}

/** PER_IP calls each claiming another left-most address, then one more: all must share one bucket. */
async function burstWithChangingLeftmost(url: string, suffix: string) {
  const calls = [];
  for (let i = 0; i <= PER_IP; i++) calls.push(await call(url, `1.2.3.${i + 1}${suffix}`));
  return calls;
}

describe('TRUST_PROXY unset (default: no proxy trusted)', () => {
  it('limits and audits a client claiming other IPs in X-Forwarded-For as its socket address', async () => {
    const url = await serverTrusting(undefined);
    const calls = await burstWithChangingLeftmost(url, '');
    expect(calls.map((c) => c.status)).toEqual([401, 401, 401, 429]);
    expect(new Set(calls.map((c) => c.auditedIp))).toEqual(new Set(['127.0.0.1']));
  });
});

describe('TRUST_PROXY=1 (one proxy in front)', () => {
  it('uses the address the proxy saw; a client-supplied left-most address changes nothing', async () => {
    const url = await serverTrusting('1');
    const calls = await burstWithChangingLeftmost(url, ', 203.0.113.7');
    expect(calls.map((c) => c.status)).toEqual([401, 401, 401, 429]);
    expect(new Set(calls.map((c) => c.auditedIp))).toEqual(new Set(['203.0.113.7']));
    // Another client behind the same proxy has a bucket of its own.
    expect(await call(url, '1.2.3.4, 198.51.100.9')).toEqual({ status: 401, auditedIp: '198.51.100.9' });
  });
});

describe('TRUST_PROXY as a list of proxies', () => {
  it('walks back through listed proxies only and stops at the first address not listed', async () => {
    const url = await serverTrusting('127.0.0.1, 10.0.0.0/8');
    const calls = await burstWithChangingLeftmost(url, ', 203.0.113.9, 10.1.2.3');
    expect(calls.map((c) => c.status)).toEqual([401, 401, 401, 429]);
    expect(new Set(calls.map((c) => c.auditedIp))).toEqual(new Set(['203.0.113.9']));
  });

  it('ignores X-Forwarded-For from a peer that is not listed', async () => {
    const url = await serverTrusting('10.0.0.0/8');
    const calls = await burstWithChangingLeftmost(url, ', 10.1.2.3');
    expect(calls.map((c) => c.status)).toEqual([401, 401, 401, 429]);
    expect(new Set(calls.map((c) => c.auditedIp))).toEqual(new Set(['127.0.0.1']));
  });
});
