import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { robotStatusKey, type StatusCache } from '../../core/adapters/redis/status-cache';
import { hasScope } from '../../core/domain/api-key-scopes';
import type { RobotView } from '../../core/domain/robot';
import { cacheRequests, httpRequestDuration } from '../../core/observability/metrics';
import type { ApiKeyVerifier } from '../auth/key-verifier';
import { requiredScope } from '../auth/route-scopes';
import type { AccessLog } from '../middleware/access-log';
import { presentedKeyOf } from '../middleware/authenticate';
import {
  bucketsFor,
  type RateLimitPolicy,
  rateLimitHeaders,
  rememberDecisions,
  shownDecision,
} from '../middleware/rate-limit';
import { acceptableRequestId } from '../middleware/request-id';
import { type RobotsRouteOptions, withLinks } from '../routes/robots.routes';
import { robotIdParams } from '../schemas';
import { isConditional, jsonBody, sendJson } from './json-answer';
import type { StatusReadPipeline } from './status-read.redis';

// Express routes case-insensitively and accepts a trailing slash; only the plain form is taken here.
const ROBOT_PATH = /^\/v1\/robots\/([^/]+)$/;
const ROUTE = '/v1/robots/:id';

export interface RobotStatusHotDeps {
  verifier: ApiKeyVerifier;
  pipeline: StatusReadPipeline;
  cache: StatusCache;
  policy: RateLimitPolicy;
  links: Pick<RobotsRouteOptions, 'temporalUiUrl' | 'namespace'>;
  /** helmet's headers (security-headers.ts). */
  headers: OutgoingHttpHeaders;
  accessLog: AccessLog;
  now?: () => number;
}

/**
 * `GET /v1/robots/:id` when the robot's status is cached: the key checked from the verifier's
 * in-process cache, the rate-limit windows and the status read in one Redis pipeline, the answer
 * written with the headers the Express stack would set (helmet's, X-Request-Id, RateLimit-*,
 * X-Robot-Source, ETag), counted in the same metrics and access log. Anything else — no key or a
 * refused one, a missing scope, a refusal by the limiter, a cache miss, Redis trouble, a conditional
 * request — goes to Express (`handOn`), which answers it as it always has; the windows this path
 * already counted go along (rememberDecisions), so no request is counted twice. ADR 0045.
 */
export function robotStatusHotPath(deps: RobotStatusHotDeps) {
  const now = deps.now ?? Date.now;
  // Bound once: the label lookup is most of an observation's cost.
  const answered = httpRequestDuration.labels({ method: 'GET', route: ROUTE, status: '200' });
  const hit = cacheRequests.labels({ family: 'robotStatus', result: 'hit' });
  return (req: IncomingMessage, res: ServerResponse, path: string, handOn: () => void): boolean => {
    const id = ROBOT_PATH.exec(path)?.[1];
    // Only ids the route accepts (its schema): a malformed one gets Express's 400.
    if (
      !id ||
      !robotIdParams.safeParse({ id }).success ||
      req.url !== path ||
      isConditional(req) ||
      !deps.pipeline.ready
    )
      return false;
    if (deps.cache.manager.circuitOpen) return false;
    const startedAt = performance.now();
    serve(req, res, id, startedAt).catch(() => {
      // Nothing was written yet (the answer is the last step and does not throw): Express answers.
      if (!res.headersSent) handOn();
    });
    return true;

    async function serve(req: IncomingMessage, res: ServerResponse, id: string, startedAt: number) {
      const verification = await deps.verifier.verify(presentedKeyOf(req.headers));
      if (!verification.ok || !hasScope(verification.key.scopes, requiredScope('GET', `/robots/${id}`))) {
        handOn();
        return;
      }
      const { caller, buckets } = bucketsFor(verification.key, undefined, 'GET', path, deps.policy);
      const cacheKey = deps.cache.manager.storeKey(robotStatusKey(id));
      const read = await deps.pipeline.read(buckets, deps.policy.windowMs, now(), cacheKey);
      if (read.decisions) rememberDecisions(req, caller, read.decisions);
      if (!read.decisions || !read.cached || !shownDecision(read.decisions).allowed) {
        handOn();
        return;
      }
      const robot = JSON.parse(read.cached) as RobotView;
      hit.inc();
      const incoming = req.headers['x-request-id'];
      const requestId =
        typeof incoming === 'string' && acceptableRequestId(incoming) ? incoming : randomUUID();
      sendJson(res, 200, jsonBody(withLinks(robot, deps.links)), {
        ...deps.headers,
        'x-request-id': requestId,
        ...rateLimitHeaders(shownDecision(read.decisions)),
        'x-robot-source': 'cache',
      });
      answered.observe((performance.now() - startedAt) / 1000);
      deps.accessLog.record(req, res, startedAt, ROUTE);
    }
  };
}
