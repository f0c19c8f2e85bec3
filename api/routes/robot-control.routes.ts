import { Router } from 'express';
import { reprioritizeBody } from '../bulk-robots.schemas';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import type { ControlResult, RobotControlService } from '../robot-control.service';
import { approvalDecisionBody, idempotencyKeyHeader, robotIdParams } from '../schemas';

// Operator actions on one robot. 202: accepted; the robot's status changes as its workflow acts.

export function robotControlRoutes(service: RobotControlService, options: { json: JsonLimits }): Router {
  const router = Router();
  const accepted = (result: ControlResult) => ({
    ...result,
    links: { self: `/v1/robots/${result.robotId}` },
  });

  router.post('/robots/:id/cancel', async (req, res) => {
    const { id } = parseOrThrow(robotIdParams, req.params, 'params');
    res.status(202).json(accepted(await service.cancel(id)));
  });

  for (const action of ['pause', 'resume'] as const) {
    router.post(`/robots/:id/${action}`, async (req, res) => {
      const { id } = parseOrThrow(robotIdParams, req.params, 'params');
      const key = parseOrThrow(idempotencyKeyHeader, req.get('idempotency-key'), 'headers');
      res.status(202).json(accepted(await service.update(id, action, undefined, key)));
    });
  }

  for (const action of ['approve', 'reject'] as const) {
    router.post(`/robots/:id/${action}`, ...jsonBody(options.json), async (req, res) => {
      const { id } = parseOrThrow(robotIdParams, req.params, 'params');
      const body = parseOrThrow(approvalDecisionBody, req.body ?? {}, 'body');
      const key = parseOrThrow(idempotencyKeyHeader, req.get('idempotency-key'), 'headers');
      res.status(202).json(accepted(await service.update(id, action, body, key)));
    });
  }

  router.post('/robots/:id/reprioritize', ...jsonBody(options.json), async (req, res) => {
    const { id } = parseOrThrow(robotIdParams, req.params, 'params');
    const { priority } = parseOrThrow(reprioritizeBody, req.body ?? {}, 'body');
    const key = parseOrThrow(idempotencyKeyHeader, req.get('idempotency-key'), 'headers');
    res.status(202).json(accepted(await service.reprioritize(id, priority, key)));
  });

  router.post('/robots/:id/retry', async (req, res) => {
    const { id } = parseOrThrow(robotIdParams, req.params, 'params');
    res.status(202).json(accepted(await service.retry(id)));
  });

  return router;
}
