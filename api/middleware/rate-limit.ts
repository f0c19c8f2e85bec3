import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { keyLimit, type RateLimitOverride, routeLimits } from '../../core/domain/rate-limit-policy';
import { rateLimitRejections } from '../../core/observability/metrics';
import type { AuthenticatedKey } from '../auth/key-verifier';
import type { Decision, WindowStore } from '../rate-limit/sliding-window';
import { authOf } from './authenticate';
import { problem, sendProblem } from './problem';

export interface RateLimitPolicy {
  windowMs: number;
  perKey: number;
  perIp: number;
  overrides: RateLimitOverride[];
}

function setHeaders(res: Response, decision: Decision): void {
  for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.setHeader(name, value);
}

export interface Bucket {
  key: string;
  limit: number;
}

/**
 * The windows one request counts against: the caller's (its key, else its IP), then one per route
 * override that matches. `path` is the full path, /v1/….
 */
export function bucketsFor(
  auth: AuthenticatedKey | undefined,
  ip: string | undefined,
  method: string,
  path: string,
  policy: RateLimitPolicy,
): { caller: string; buckets: Bucket[] } {
  const caller = auth ? `key:${auth.id}` : `ip:${ip ?? 'unknown'}`;
  const limit = auth ? keyLimit(auth.scopes, policy.overrides, policy.perKey) : policy.perIp;
  const buckets = [{ key: caller, limit }];
  for (const route of routeLimits(method, path, policy.overrides)) {
    buckets.push({ key: `${caller}:${route.method} ${route.path}`, limit: route.limit });
  }
  return { caller, buckets };
}

// Decisions the fast path (api/hot-path) already counted in Redis for a request it then handed on
// (refused, or not cached): the limiter uses them instead of counting the request a second time.
const counted = new WeakMap<IncomingMessage, { caller: string; decisions: Decision[] }>();

export function rememberDecisions(req: IncomingMessage, caller: string, decisions: Decision[]): void {
  counted.set(req, { caller, decisions });
}

/**
 * Mount on /v1 after `identify` and before `requireKey`: a caller with a valid key is limited per
 * key, anyone else per IP (so a flood of bad keys is limited too). Route overrides add budgets of
 * their own. Every answer carries RateLimit-Limit/Remaining/Reset; a refusal is 429 problem+json
 * with Retry-After.
 */
export function rateLimit(store: WindowStore, policy: RateLimitPolicy, now = Date.now): RequestHandler {
  return async (req, res, next) => {
    const { caller, buckets } = bucketsFor(authOf(res), req.ip, req.method, `/v1${req.path}`, policy);
    const already = counted.get(req);
    let decisions: Decision[];
    if (already?.caller === caller && already.decisions.length === buckets.length) {
      decisions = already.decisions;
    } else {
      const at = now();
      decisions = [];
      for (const bucket of buckets)
        decisions.push(await store.hit(bucket.key, bucket.limit, policy.windowMs, at));
    }
    const shown = shownDecision(decisions);
    setHeaders(res, shown);
    if (shown.allowed) {
      next();
      return;
    }
    const retryAfter = Math.max(...decisions.filter((d) => !d.allowed).map((d) => d.retryAfterSeconds));
    res.setHeader('retry-after', String(retryAfter));
    rateLimitRejections.inc({ reason: 'rate-limited' });
    sendProblem(
      res,
      problem(429, 'rate-limited', `Too many requests; retry in ${retryAfter} s.`, {
        limit: shown.limit,
        retryAfterSeconds: retryAfter,
      }),
    );
  };
}

/** The decision the headers show: the first refusal, else the one with the least room left. */
export function shownDecision(decisions: Decision[]): Decision {
  const refused = decisions.find((decision) => !decision.allowed);
  return refused ?? decisions.reduce((a, b) => (b.remaining < a.remaining ? b : a));
}

export function rateLimitHeaders(decision: Decision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
  };
}
