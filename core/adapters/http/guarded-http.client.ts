import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { HostUnresolvedError, type SsrfGuard, TargetRefusedError } from './ssrf.guard';

// One HTTP exchange with a target that user input chose (the http-request step). Node's own http
// client does the protocol; this adds what a user-chosen target needs: every hop vetted by the SSRF
// guard and connected to the vetted address, one deadline over the whole exchange, a bounded body.

export type GuardedHttpFailure =
  /** The guard refused the target or a redirect's target. */
  | 'refused-target'
  /** DNS, connection, reset: the same request may work later. */
  | 'network'
  | 'timeout'
  | 'too-large'
  /** Too many redirects or a Location that is no URL. */
  | 'redirects'
  | 'cancelled';

export class GuardedHttpError extends Error {
  constructor(
    message: string,
    readonly failure: GuardedHttpFailure,
  ) {
    super(message);
  }
}

export interface GuardedRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** For everything: lookups, connections, redirects and the body. */
  timeoutMs: number;
  maxResponseBytes: number;
  maxRedirects?: number;
  /** Aborts the exchange (the activity's cancellation). */
  signal?: AbortSignal;
}

export interface GuardedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Where the answer came from, after redirects. */
  url: URL;
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry no credentials: the only ones kept when a redirect leaves the origin. */
const SAFE_ACROSS_ORIGINS = new Set(['accept', 'content-type', 'user-agent', 'idempotency-key']);
export const DEFAULT_MAX_REDIRECTS = 5;

async function vet(guard: SsrfGuard, url: URL): Promise<{ address: string; family: number }> {
  try {
    const [first] = await guard.resolve(url);
    if (!first) throw new HostUnresolvedError(`host ${url.hostname} has no address`);
    return first;
  } catch (err) {
    if (err instanceof HostUnresolvedError) throw new GuardedHttpError(err.message, 'network');
    if (err instanceof TargetRefusedError) throw new GuardedHttpError(err.message, 'refused-target');
    throw err;
  }
}

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function exchange(
  url: URL,
  vetted: { address: string; family: number },
  request: { method: string; headers: Record<string, string>; body: string | undefined },
  signal: AbortSignal,
  maxBytes: number,
): Promise<Exchange> {
  // The connection goes to the address the guard vetted: a DNS answer that changes between check and
  // connect cannot reach a private address. No agent: no pooled socket outlives its vetting.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [vetted]);
    else callback(null, vetted.address, vetted.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  const headers = {
    ...request.headers,
    ...(request.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(request.body)) } : {}),
  };
  return new Promise<Exchange>((resolve, reject) => {
    const req = client.request(
      url,
      { method: request.method, headers, lookup: pinned, signal, agent: false },
      (res) => {
        const status = res.statusCode ?? 0;
        if (REDIRECTS.has(status) && res.headers.location) {
          // Only the Location matters; the body of a redirect is not read.
          res.destroy();
          resolve({ status, headers: res.headers, body: Buffer.alloc(0) });
          return;
        }
        const tooLarge = () =>
          new GuardedHttpError(`the response is larger than ${maxBytes} bytes`, 'too-large');
        if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
          res.destroy();
          reject(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let ended = false;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            res.destroy();
            reject(tooLarge());
          } else chunks.push(chunk);
        });
        res.on('end', () => {
          ended = true;
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
        res.on('close', () => {
          if (!ended) reject(new Error('the connection closed before the response ended'));
        });
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/**
 * Sends the request, following up to `maxRedirects` redirects, each to a target the guard allows.
 * Throws GuardedHttpError; any status, 4xx and 5xx included, is an answer, not an error.
 */
export async function guardedRequest(guard: SsrfGuard, request: GuardedRequest): Promise<GuardedResponse> {
  const deadline = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([deadline, request.signal]) : deadline;
  const maxRedirects = request.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  let url = request.url;
  let { method, headers, body } = request;
  try {
    for (let hop = 0; ; hop++) {
      const vetted = await vet(guard, url);
      if (signal.aborted) throw signal.reason;
      const answer = await exchange(url, vetted, { method, headers, body }, signal, request.maxResponseBytes);
      const location = answer.headers.location;
      if (!REDIRECTS.has(answer.status) || !location) return { ...answer, url, redirects: hop };
      if (hop >= maxRedirects) throw new GuardedHttpError(`more than ${maxRedirects} redirects`, 'redirects');
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new GuardedHttpError(`redirect to an invalid URL: ${location.slice(0, 200)}`, 'redirects');
      }
      // As browsers and fetch do: 303 always, 301/302 after a POST, become a GET without a body.
      if (answer.status === 303 || (method === 'POST' && (answer.status === 301 || answer.status === 302))) {
        method = 'GET';
        body = undefined;
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'),
        );
      }
      // Headers and body may hold secrets (Authorization, API keys): they go to the origin they were
      // meant for. A 307/308 elsewhere would resend the body, so it is not followed.
      if (next.origin !== url.origin) {
        if (body !== undefined)
          throw new GuardedHttpError(
            `redirect (${answer.status}) to another origin (${next.origin}) would resend the body; not followed`,
            'redirects',
          );
        headers = Object.fromEntries(
          Object.entries(headers).filter(([name]) => SAFE_ACROSS_ORIGINS.has(name.toLowerCase())),
        );
      }
      url = next;
    }
  } catch (err) {
    if (err instanceof GuardedHttpError) throw err;
    if (deadline.aborted)
      throw new GuardedHttpError(`no complete answer within ${request.timeoutMs} ms`, 'timeout');
    if (request.signal?.aborted) throw new GuardedHttpError('the request was cancelled', 'cancelled');
    const code = (err as NodeJS.ErrnoException).code;
    const message = err instanceof Error ? err.message : String(err);
    throw new GuardedHttpError(code && !message.includes(code) ? `${code}: ${message}` : message, 'network');
  }
}
