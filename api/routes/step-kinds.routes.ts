import { Router } from 'express';
import { parseOrThrow } from '../middleware/validate';
import { stepKindParams } from '../schemas';
import type { StepKindsService } from '../step-kinds.service';

export function stepKindsRoutes(service: StepKindsService): Router {
  const router = Router();

  router.get('/step-kinds', async (_req, res) => {
    res.json({ items: await service.list() });
  });

  router.get('/step-kinds/:kind', async (req, res) => {
    const { kind } = parseOrThrow(stepKindParams, req.params, 'params');
    res.json(await service.get(kind));
  });

  return router;
}
