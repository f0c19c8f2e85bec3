import { isScope, type Scope } from './api-key-scopes';

// RATE_LIMIT_OVERRIDES: a comma list of `selector=limit`. A selector is a scope (`admin=3000`: a
// key holding it gets that limit instead of RATE_LIMIT_PER_KEY; the highest of its scopes wins) or
// a method and path prefix (`POST /v1/robots=120`: an extra, separate budget for matching requests).

export type RateLimitOverride =
  | { kind: 'scope'; scope: Scope; limit: number }
  | { kind: 'route'; method: string; path: string; limit: number };

const ROUTE = /^(GET|POST|PUT|PATCH|DELETE) (\/v1(?:\/[A-Za-z0-9._-]+)*)$/;

export function parseRateLimitOverrides(text: string): RateLimitOverride[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.lastIndexOf('=');
      const selector = entry.slice(0, at).trim();
      const limit = Number(entry.slice(at + 1));
      if (at < 1 || !Number.isInteger(limit) || limit < 1) {
        throw new Error(`"${entry}": expected selector=limit with a whole limit ≥ 1`);
      }
      if (isScope(selector)) return { kind: 'scope', scope: selector, limit };
      const route = ROUTE.exec(selector);
      if (!route?.[1] || !route[2]) {
        throw new Error(`"${selector}": expected a scope or "METHOD /v1/path"`);
      }
      return { kind: 'route', method: route[1], path: route[2], limit };
    });
}

/** The per-key budget: the highest override among the key's scopes, else the default. */
export function keyLimit(
  scopes: readonly string[],
  overrides: RateLimitOverride[],
  fallback: number,
): number {
  const limits = overrides.flatMap((o) => (o.kind === 'scope' && scopes.includes(o.scope) ? [o.limit] : []));
  return limits.length > 0 ? Math.max(...limits) : fallback;
}

/** Route budgets that apply to a request (`path` is the full path, /v1/…). */
export function routeLimits(method: string, path: string, overrides: RateLimitOverride[]) {
  return overrides.filter(
    (o): o is Extract<RateLimitOverride, { kind: 'route' }> =>
      o.kind === 'route' &&
      o.method === method.toUpperCase() &&
      (path === o.path || path.startsWith(`${o.path}/`)),
  );
}
