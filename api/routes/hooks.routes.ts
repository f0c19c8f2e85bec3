import express, { type ErrorRequestHandler, type RequestHandler, Router } from 'express';
import { WEBHOOK_ID_HEADER } from '../../core/adapters/crypto/standard-webhooks';
import { auditActor } from '../../core/domain/audit-actor';
import type { Logger } from '../../core/observability/logger';
import { hookRequests } from '../../core/observability/metrics';
import type { AuditRepository } from '../../db/audit.repository';
import type { TriggerRow } from '../../db/schema';
import { cleanAuditText } from '../audit/audit-action';
import { auditAnswer } from '../middleware/audit-trail';
import { problem, sendProblem } from '../middleware/problem';
import { type RateLimitPolicy, rateLimit } from '../middleware/rate-limit';
import type { WindowStore } from '../rate-limit/sliding-window';
import { HookRefusedError, type TriggersService } from '../triggers.service';

// POST /hooks/<name>: inbound webhooks (ADR 0048). No API key: the Standard Webhooks signature with
// the trigger's secret is the authentication. Limited per IP like any keyless caller. Every answer
// that is not 202 is audited: the trigger named (who), the address, and the reason as the action.

interface HookLocals {
  hookName?: string;
  hookReason?: string;
  /** A 202's: a new robot, or the first one found again. */
  hookResult?: 'accepted' | 'replayed';
  trigger?: TriggerRow;
}

const locals = (res: express.Response) => res.locals as HookLocals;

export interface HooksRoutesDeps {
  service: TriggersService;
  audit: AuditRepository;
  limiter: WindowStore;
  policy: RateLimitPolicy;
  /** HOOK_BODY_LIMIT. */
  bodyLimit: string;
  logger: Logger;
  stats: { auditFailures: number };
}

function auditRefusals({ audit, logger, stats }: HooksRoutesDeps): RequestHandler {
  return (req, res, next) => {
    locals(res).hookName = decodeURIComponentSafe(req.path.split('/')[1] ?? '');
    res.on('finish', () => {
      const { hookName = '', hookReason, hookResult } = locals(res);
      if (res.statusCode < 300) {
        hookRequests.inc({ result: hookResult ?? 'accepted' });
        return;
      }
      const reason = hookReason ?? (res.statusCode === 429 ? 'rate-limited' : `failed-${res.statusCode}`);
      hookRequests.inc({ result: reason });
      const webhookId = req.get(WEBHOOK_ID_HEADER);
      auditAnswer(
        { audit, logger, stats },
        req,
        res,
        {
          keyId: null,
          actor: auditActor.trigger(hookName),
          action: `hooks.${reason}`,
          target: webhookId ? cleanAuditText(webhookId) : null,
        },
        { hook: hookName },
      );
    });
    next();
  };
}

function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const refused: ErrorRequestHandler = (err, _req, res, next) => {
  if (err instanceof HookRefusedError) {
    locals(res).hookReason = err.reason;
    sendProblem(res, problem(err.status, err.reason, err.message));
    return;
  }
  if (typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.too.large') {
    locals(res).hookReason = 'body-too-large';
    sendProblem(res, problem(413, 'body-too-large', 'The request body is larger than HOOK_BODY_LIMIT.'));
    return;
  }
  next(err);
};

export function hooksRoutes(deps: HooksRoutesDeps): Router {
  const router = Router();
  router.use(auditRefusals(deps));
  // Route overrides name /v1 routes; a trigger named like one must not borrow its budget.
  router.use(rateLimit(deps.limiter, { ...deps.policy, overrides: [] }));
  router.post(
    '/:name',
    async (req, res, next) => {
      try {
        locals(res).trigger = await deps.service.hookTarget(String(req.params.name));
        next();
      } catch (err) {
        next(err);
      }
    },
    // The exact bytes: the signature covers them, not a re-serialised parse.
    express.raw({ type: () => true, limit: deps.bodyLimit }),
    async (req, res) => {
      const trigger = locals(res).trigger as TriggerRow;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const { robotId, created } = await deps.service.receive(trigger, req.headers, raw);
      locals(res).hookResult = created ? 'accepted' : 'replayed';
      res.status(202).json({ robotId, trigger: trigger.name, links: { robot: `/v1/robots/${robotId}` } });
    },
  );
  router.use(refused);
  return router;
}
