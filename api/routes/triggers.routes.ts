import { Router } from 'express';
import { z } from 'zod';
import { createTriggerBody, triggerName, updateTriggerBody } from '../../core/domain/trigger';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import type { TriggersService } from '../triggers.service';

const nameParams = z.object({ name: triggerName });

/** /v1/triggers (admin): inbound webhook triggers; the signing secret is shown only when it is made. */
export function triggersRoutes(service: TriggersService, options: { json: JsonLimits }): Router {
  const router = Router();

  router.post('/triggers', ...jsonBody(options.json), async (req, res) => {
    const body = parseOrThrow(createTriggerBody, req.body ?? {}, 'body');
    const { trigger, secret } = await service.create(body);
    res
      .status(201)
      .location(`/v1/triggers/${trigger.name}`)
      .json({ ...trigger, secret });
  });

  router.get('/triggers', async (_req, res) => {
    res.json({ items: await service.list() });
  });

  router.get('/triggers/:name', async (req, res) => {
    const { name } = parseOrThrow(nameParams, req.params, 'params');
    res.json(await service.get(name));
  });

  router.patch('/triggers/:name', ...jsonBody(options.json), async (req, res) => {
    const { name } = parseOrThrow(nameParams, req.params, 'params');
    const body = parseOrThrow(updateTriggerBody, req.body ?? {}, 'body');
    const { trigger, secret } = await service.update(name, body);
    res.json(secret === undefined ? trigger : { ...trigger, secret });
  });

  router.delete('/triggers/:name', async (req, res) => {
    const { name } = parseOrThrow(nameParams, req.params, 'params');
    await service.delete(name);
    res.status(204).end();
  });

  return router;
}
