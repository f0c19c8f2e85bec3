import { Router } from 'express';
import { setAudit } from '../middleware/audit-trail';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import type { ModulesService } from '../modules.service';
import { listModulesQuery, moduleHeartbeatBody, moduleNameParams, moduleReplicaParams } from '../schemas';

export function modulesRoutes(
  service: ModulesService,
  options: { json: JsonLimits; heartbeatSeconds: number; replicaTtlSeconds: number },
): Router {
  const router = Router();
  const body = jsonBody(options.json);

  router.post('/modules', ...body, async (req, res) => {
    // The registry parses the document itself: the module worker registers through it too.
    const { module, created } = await service.register(req.body ?? {});
    res
      .status(created ? 201 : 200)
      .location(`/v1/modules/${module.name}`)
      .json(module);
  });

  router.get('/modules', async (req, res) => {
    const { robotType } = parseOrThrow(listModulesQuery, req.query, 'query');
    res.json({ items: await service.list(robotType) });
  });

  router.get('/modules/:name', async (req, res) => {
    const { name } = parseOrThrow(moduleNameParams, req.params, 'params');
    const { robotType } = parseOrThrow(listModulesQuery, req.query, 'query');
    res.json(await service.get(name, robotType));
  });

  router.post('/modules/:name/heartbeat', ...body, async (req, res) => {
    const { name } = parseOrThrow(moduleNameParams, req.params, 'params');
    const replica = parseOrThrow(moduleHeartbeatBody, req.body ?? {}, 'body');
    const module = await service.heartbeat(name, replica, options.replicaTtlSeconds);
    // The cadence a replica should keep, and how long the registry counts it alive after a beat.
    res.json({
      ...module,
      heartbeatSeconds: options.heartbeatSeconds,
      ttlSeconds: options.replicaTtlSeconds,
    });
  });

  router.delete('/modules/:name/replicas/:replicaId', async (req, res) => {
    const { name, replicaId } = parseOrThrow(moduleReplicaParams, req.params, 'params');
    setAudit(res, { action: 'modules.deregister', target: `${name}/${replicaId}` });
    await service.removeReplica(name, replicaId);
    res.status(204).end();
  });

  router.post('/modules/:name/drain', async (req, res) => {
    const { name } = parseOrThrow(moduleNameParams, req.params, 'params');
    res.json(await service.setDraining(name, true));
  });

  router.post('/modules/:name/resume', async (req, res) => {
    const { name } = parseOrThrow(moduleNameParams, req.params, 'params');
    res.json(await service.setDraining(name, false));
  });

  router.delete('/modules/:name', async (req, res) => {
    const { name } = parseOrThrow(moduleNameParams, req.params, 'params');
    res.json(await service.deactivate(name));
  });

  return router;
}
