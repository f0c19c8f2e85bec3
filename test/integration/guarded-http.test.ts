import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GuardedHttpError, guardedRequest } from '../../core/adapters/http/guarded-http.client';
import { SsrfGuard } from '../../core/adapters/http/ssrf.guard';

// The http-request step's client against two loopback servers (two origins): what crosses a
// redirect, deadlines and size limits. The step's robots end to end: http-request.test.ts.

interface Seen {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const guard = new SsrfGuard(['127.0.0.1'], 'HTTP_STEP_ALLOWED_HOSTS');
const seen: Seen[] = [];
let home: http.Server;
let other: http.Server;
let homeUrl = '';
let otherUrl = '';
const hanging = new Set<http.ServerResponse>();

function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  other = serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"landed":true}');
  });
  otherUrl = await listen(other);
  home = serve((req, res) => {
    const to = (status: number, location: string) => {
      res.writeHead(status, { location });
      res.end('redirect body that is never read');
    };
    if (req.url === '/away') to(302, `${otherUrl}/landing`);
    else if (req.url === '/away-307') to(307, `${otherUrl}/landing`);
    else if (req.url === '/see-other') to(303, '/landing');
    else if (req.url === '/loop') to(302, '/loop');
    else if (req.url === '/slow') hanging.add(res);
    else if (req.url === '/chunked') {
      // No Content-Length: the limit must hold while the body streams.
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 10; i++) res.write('x'.repeat(1000));
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"home":true}');
    }
  });
  homeUrl = await listen(home);
});

afterAll(async () => {
  for (const res of hanging) res.destroy();
  await Promise.all([home, other].map((server) => new Promise((resolve) => server?.close(resolve))));
});

beforeEach(() => {
  seen.length = 0;
});

const send = (path: string, extra: Partial<Parameters<typeof guardedRequest>[1]> = {}) =>
  guardedRequest(guard, {
    method: 'GET',
    url: new URL(path, homeUrl),
    headers: {
      Authorization: 'Bearer s3cret',
      'X-Api-Key': 'k',
      'Idempotency-Key': 'idem',
      Accept: 'application/json',
    },
    timeoutMs: 3000,
    maxResponseBytes: 4096,
    ...extra,
  });

describe('guardedRequest', () => {
  it('follows a redirect to another origin without the headers that may hold credentials', async () => {
    const response = await send('/away');
    expect(response).toMatchObject({ status: 200, redirects: 1 });
    expect(response.url.href).toBe(`${otherUrl}/landing`);
    expect(response.body.toString()).toBe('{"landed":true}');
    expect(seen.map((s) => s.path)).toEqual(['/away', '/landing']);
    expect(seen[0]?.headers).toMatchObject({ authorization: 'Bearer s3cret', 'x-api-key': 'k' });
    expect(seen[1]?.headers.authorization).toBeUndefined();
    expect(seen[1]?.headers['x-api-key']).toBeUndefined();
    expect(seen[1]?.headers['idempotency-key']).toBe('idem');
    expect(seen[1]?.headers.accept).toBe('application/json');
  });

  it('turns a POST answered with 303 into a GET without body on the same origin, headers kept', async () => {
    const response = await send('/see-other', {
      method: 'POST',
      body: '{"a":1}',
      headers: { Authorization: 'Bearer s3cret', 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(seen.map((s) => `${s.method} ${s.path} ${s.body}`)).toEqual([
      'POST /see-other {"a":1}',
      'GET /landing ',
    ]);
    expect(seen[1]?.headers.authorization).toBe('Bearer s3cret');
    expect(seen[1]?.headers['content-type']).toBeUndefined();
  });

  it('does not resend a body to another origin on a 307', async () => {
    const failure = await send('/away-307', { method: 'PUT', body: 'secret payload' }).catch((err) => err);
    expect(failure).toBeInstanceOf(GuardedHttpError);
    expect(failure).toMatchObject({ failure: 'redirects' });
    expect(failure.message).toContain(`redirect (307) to another origin (${otherUrl}) would resend the body`);
    expect(seen.map((s) => s.path)).toEqual(['/away-307']);
  });

  it('stops after 5 redirects', async () => {
    await expect(send('/loop')).rejects.toMatchObject({
      failure: 'redirects',
      message: 'more than 5 redirects',
    });
    expect(seen).toHaveLength(6);
  });

  it('gives up at the deadline, whatever the server does', async () => {
    const started = Date.now();
    await expect(send('/slow', { timeoutMs: 300 })).rejects.toMatchObject({
      failure: 'timeout',
      message: 'no complete answer within 300 ms',
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops reading a streamed body past the limit', async () => {
    await expect(send('/chunked', { maxResponseBytes: 2048 })).rejects.toMatchObject({
      failure: 'too-large',
      message: 'the response is larger than 2048 bytes',
    });
    expect((await send('/chunked', { maxResponseBytes: 10_000 })).body).toHaveLength(10_000);
  });

  it('reports a refused connection as a network failure, worth a retry', async () => {
    const closed = http.createServer();
    const url = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    await expect(send('/', { url: new URL(url) })).rejects.toMatchObject({ failure: 'network' });
  });

  it('refuses a target the guard refuses before connecting', async () => {
    await expect(send('/', { url: new URL('http://127.0.0.2:9/') })).rejects.toMatchObject({
      failure: 'refused-target',
    });
    await expect(send('/', { url: new URL('http://[::1]:9/') })).rejects.toMatchObject({
      failure: 'refused-target',
    });
  });
});
