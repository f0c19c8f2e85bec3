import { Router } from 'express';
import type { ApprovalsService } from '../approvals.service';
import { parseOrThrow } from '../middleware/validate';
import { listApprovalsQuery } from '../schemas';

export function approvalsRoutes(service: ApprovalsService): Router {
  const router = Router();
  router.get('/approvals', async (req, res) => {
    const query = parseOrThrow(listApprovalsQuery, req.query, 'query');
    res.json(await service.list(query));
  });
  return router;
}
