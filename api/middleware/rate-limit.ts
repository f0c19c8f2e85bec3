import type { RequestHandler, Response } from 'express';
import { keyLimit, type RateLimitOverride, routeLimits } from '../../core/domain/rate-limit-policy';
import { rateLimitRejections } from '../../core/observability/metrics';
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
  res.setHeader('ratelimit-limit', String(decision.limit));
  res.setHeader('ratelimit-remaining', String(decision.remaining));
  res.setHeader('ratelimit-reset', String(decision.resetSeconds));
}

/**
 * Mount on /v1 after `identify` and before `requireKey`: a caller with a valid key is limited per
 * key, anyone else per IP (so a flood of bad keys is limited too). Route overrides add budgets of
 * their own. Every answer carries RateLimit-Limit/Remaining/Reset; a refusal is 429 problem+json
 * with Retry-After.
 */
export function rateLimit(store: WindowStore, policy: RateLimitPolicy, now = Date.now): RequestHandler {
  return async (req, res, next) => {
    const auth = authOf(res);
    const caller = auth ? `key:${auth.id}` : `ip:${req.ip ?? 'unknown'}`;
    const limit = auth ? keyLimit(auth.scopes, policy.overrides, policy.perKey) : policy.perIp;
    const at = now();
    const decisions = [await store.hit(caller, limit, policy.windowMs, at)];
    for (const route of routeLimits(req.method, `/v1${req.path}`, policy.overrides)) {
      const bucket = `${caller}:${route.method} ${route.path}`;
      decisions.push(await store.hit(bucket, route.limit, policy.windowMs, at));
    }
    const refused = decisions.filter((decision) => !decision.allowed);
    const shown = refused[0] ?? decisions.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    setHeaders(res, shown);
    if (refused.length === 0) {
      next();
      return;
    }
    const retryAfter = Math.max(...refused.map((decision) => decision.retryAfterSeconds));
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
