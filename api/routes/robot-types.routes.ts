import { Router } from 'express';
import { z } from 'zod';
import { robotTypeRegistrationSchema } from '../../core/domain/robot-types';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import type { RobotTypesService } from '../robot-types.service';

export const robotTypeNameParams = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a robot type name'),
});

export function robotTypesRoutes(service: RobotTypesService, options: { json: JsonLimits }): Router {
  const router = Router();

  router.post('/robot-types', ...jsonBody(options.json), async (req, res) => {
    const body = parseOrThrow(robotTypeRegistrationSchema, req.body ?? {}, 'body');
    const type = await service.register(body);
    res.status(201).location(`/v1/robot-types/${type.name}`).json(type);
  });

  router.get('/robot-types', async (_req, res) => {
    res.json({ items: await service.list() });
  });

  router.get('/robot-types/:name', async (req, res) => {
    const { name } = parseOrThrow(robotTypeNameParams, req.params, 'params');
    res.json(await service.get(name));
  });

  router.get('/robot-types/:name/versions', async (req, res) => {
    const { name } = parseOrThrow(robotTypeNameParams, req.params, 'params');
    res.json({ items: await service.versions(name) });
  });

  return router;
}
