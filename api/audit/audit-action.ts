import { stripControlChars } from '../../core/domain/text';

// What an audit row calls a request: `<resource>.<verb>` and a target, from the method and the
// path under /v1. Routes whose verb this cannot guess set `res.locals.audit` (see auditTrail).

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export type AuditOutcome = 'success' | 'denied' | 'rate-limited' | 'failure';

export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403) return 'denied';
  if (status === 429) return 'rate-limited';
  return status < 400 ? 'success' : 'failure';
}

export function isMutating(method: string): boolean {
  return !READ_METHODS.has(method.toUpperCase());
}

/** Caller-controlled text in the audit log: no control or bidi characters, bounded length. */
export function cleanAuditText(text: string, max = 200): string {
  return stripControlChars(text, { singleLine: true }).slice(0, max);
}

function verb(method: string, segments: string[]): string {
  const m = method.toUpperCase();
  if (segments.length >= 3) return cleanAuditText(segments[2] ?? '', 40);
  if (segments.length === 2) {
    if (READ_METHODS.has(m)) return 'get';
    return m === 'DELETE' ? 'delete' : 'update';
  }
  if (READ_METHODS.has(m)) return 'list';
  return m === 'POST' ? 'create' : m.toLowerCase();
}

/** `path` is relative to /v1; `location` is the response's Location header, if any. */
export function auditAction(
  method: string,
  path: string,
  location?: string,
): { action: string; target: string | null } {
  const segments = path.split('/').filter(Boolean).map(safeDecode);
  const first = segments[0] ?? '';
  const resource = /^[a-z][a-z0-9-]{0,39}$/.test(first) ? first : 'unknown';
  const created = location?.split('/').filter(Boolean).at(-1);
  const target = segments[1] ?? (created ? safeDecode(created) : null);
  return {
    action: `${resource}.${verb(method, segments) || 'unknown'}`,
    target: target === null ? null : cleanAuditText(target),
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
