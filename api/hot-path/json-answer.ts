import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

// What Express's res.json adds to a JSON answer, made without Express: the same Content-Type, the
// same Content-Length and the same weak ETag (express's default `etag fn`, from the `etag`
// package: W/"<byte length, hex>-<first 27 base64 characters of SHA-1>").

export function weakEtag(body: Buffer): string {
  if (body.length === 0) return 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';
  const hash = createHash('sha1').update(body).digest('base64').substring(0, 27);
  return `W/"${body.length.toString(16)}-${hash}"`;
}

export interface JsonBody {
  body: Buffer;
  etag: string;
}

export function jsonBody(value: unknown): JsonBody {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return { body, etag: weakEtag(body) };
}

/**
 * A conditional request (If-None-Match / If-Modified-Since) may deserve a 304, which Express
 * decides: the fast paths hand such requests on rather than re-implement freshness.
 */
export function isConditional(req: IncomingMessage): boolean {
  return req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  json: JsonBody,
  headers: OutgoingHttpHeaders,
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': json.body.length,
    etag: json.etag,
  });
  res.end(json.body);
}
