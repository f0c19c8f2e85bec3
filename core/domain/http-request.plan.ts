import type { HttpRequestParams } from './step-params';
import { renderJson, renderTemplate, TemplateError } from './template';

// The pure half of the http-request step: what to send, which statuses count as success, what to
// keep of the answer. The sending (SSRF guard, redirects, limits) is
// core/adapters/http/guarded-http.client.ts; the activity that joins them is activities/http-request.ts.

/** A request ready to send: every template filled in. */
export interface PlannedRequest {
  method: HttpRequestParams['method'];
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** What a template may read: the robot id, its input and the earlier steps' outputs. */
export interface TemplateData {
  robotId: string;
  input: Record<string, unknown>;
  previous: Record<string, Record<string, unknown>>;
}

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const USER_AGENT = 'rpa-orchestrator-http-step/1';

const hasHeader = (headers: Record<string, string>, name: string): boolean =>
  Object.keys(headers).some((key) => key.toLowerCase() === name.toLowerCase());

/** The module resolves secret references before the step runs; one left here was never resolved. */
function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new TemplateError(`${what} holds an unresolved secret reference`);
  return value;
}

// Tab is the one control character a field value may hold (RFC 9110 §5.5).
const hasControl = (text: string): boolean =>
  Array.from(text).some((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  });

/**
 * Fills in the templates. URL values are percent-encoded, so a value can fill a path segment or a
 * query value but never add segments, a query or another host. Throws TemplateError for a
 * placeholder without a value or a header value with a line break.
 */
export function planHttpRequest(
  params: HttpRequestParams,
  data: TemplateData,
  idempotencyKey: string,
): PlannedRequest {
  let url: URL;
  const rendered = renderTemplate(params.url, data, encodeURIComponent);
  try {
    url = new URL(rendered);
  } catch {
    throw new TemplateError(`url is not a valid URL once filled in: ${rendered.slice(0, 200)}`);
  }
  const headers: Record<string, string> = {};
  for (const [name, template] of Object.entries(params.headers)) {
    const value = renderTemplate(text(template, `header ${name}`), data);
    if (hasControl(value))
      throw new TemplateError(`header ${name} would hold a line break or control character`);
    headers[name] = value;
  }
  let body: string | undefined;
  if (params.body !== undefined) {
    body = JSON.stringify(renderJson(params.body, data));
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/json';
  } else if (params.form !== undefined) {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(params.form)) {
      form.append(
        name,
        typeof value === 'number' || typeof value === 'boolean'
          ? String(value)
          : renderTemplate(text(value, `form field ${name}`), data),
      );
    }
    body = form.toString();
    if (!hasHeader(headers, 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  if (!hasHeader(headers, 'accept')) headers.Accept = 'application/json, */*;q=0.5';
  if (!hasHeader(headers, 'user-agent')) headers['User-Agent'] = USER_AGENT;
  if (!hasHeader(headers, IDEMPOTENCY_HEADER)) headers[IDEMPOTENCY_HEADER] = idempotencyKey;
  return { method: params.method, url, headers, ...(body !== undefined ? { body } : {}) };
}

export interface StatusRange {
  from: number;
  to: number;
}

/** `acceptStatus` entries (204, "2xx", "200-299") as inclusive ranges. */
export function statusRanges(accept: readonly (number | string)[]): StatusRange[] {
  return accept.map((entry) => {
    if (typeof entry === 'number') return { from: entry, to: entry };
    if (entry.endsWith('xx')) {
      const base = Number(entry[0]) * 100;
      return { from: base, to: base + 99 };
    }
    const [from = 0, to = 0] = entry.split('-').map(Number);
    return { from, to };
  });
}

/**
 * What a status means for the step: accepted, worth another attempt (408, 429, 5xx: the server may
 * answer differently later) or refused for good (any other status the step does not accept).
 */
export function statusVerdict(
  status: number,
  accept: readonly StatusRange[],
): 'accepted' | 'retry' | 'refused' {
  if (accept.some((range) => status >= range.from && status <= range.to)) return 'accepted';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}

/** Retry-After (delay seconds or an HTTP date) in milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * RFC 6901: the value at `pointer` ("" is the whole document), or `undefined`. Only own properties:
 * `/constructor` finds nothing in a document without such a key.
 */
export function jsonPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (current !== null && typeof current === 'object' && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}

/** The picked fields that the document has; the caller lists the others as missing. */
export function pickFields(
  document: unknown,
  pick: Readonly<Record<string, string>>,
): { fields: Record<string, unknown>; missing: string[] } {
  const fields: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [field, pointer] of Object.entries(pick)) {
    const value = jsonPointer(document, pointer);
    if (value === undefined) missing.push(field);
    else fields[field] = value;
  }
  return { fields, missing };
}

/** The start of a response body for an error message: one line, at most `max` characters. */
export function bodyExcerpt(body: Uint8Array, max = 300): string {
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(body.subarray(0, max * 4))
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
