import { Router } from 'express';
import { auditActor } from '../../core/domain/audit-actor';
import { bulkActionParams, bulkBody, bulkOperationParams } from '../bulk-robots.schemas';
import type { BulkRobotsService } from '../bulk-robots.service';
import { setAudit } from '../middleware/audit-trail';
import { authOf } from '../middleware/authenticate';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import { idempotencyKeyHeader } from '../schemas';

// Bulk actions on robots (ADR 0049). Mounted before the single-robot routes: `/robots/bulk/cancel`
// is a bulk action, not the cancel of a robot named "bulk".

export function bulkRobotsRoutes(service: BulkRobotsService, options: { json: JsonLimits }): Router {
  const router = Router();

  router.post('/robots/bulk/:action', ...jsonBody(options.json), async (req, res) => {
    const { action } = parseOrThrow(bulkActionParams, req.params, 'params');
    const body = parseOrThrow(bulkBody, req.body ?? {}, 'body');
    const idempotencyKey = parseOrThrow(idempotencyKeyHeader, req.get('idempotency-key'), 'headers');
    const keyId = authOf(res)?.id ?? null;
    const actor = keyId ? auditActor.apiKey(keyId) : auditActor.anonymous;
    setAudit(res, { action: `robots.bulk-${action}${body.dryRun ? '.dry-run' : ''}`, target: null });
    const answer = await service.start(action, body, { keyId, actor, idempotencyKey });
    if (answer.kind === 'dry-run') {
      res.json(answer.body);
      return;
    }
    setAudit(res, { action: `robots.bulk-${action}`, target: answer.body.operationId });
    res
      .status(answer.kind === 'started' ? 202 : 200)
      .location(answer.body.links.self)
      .json(answer.body);
  });

  router.get('/robots/bulk/:operationId', async (req, res) => {
    const { operationId } = parseOrThrow(bulkOperationParams, req.params, 'params');
    res.json(await service.get(operationId));
  });

  router.post('/robots/bulk/:operationId/cancel', async (req, res) => {
    const { operationId } = parseOrThrow(bulkOperationParams, req.params, 'params');
    setAudit(res, { action: 'robots.bulk-cancel-operation', target: operationId });
    res.status(202).json(await service.cancel(operationId));
  });

  return router;
}
