import { Router } from 'express';
import type { RobotView } from '../../core/domain/robot';
import type { RobotEvents } from '../../core/domain/robot-events';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { addLogContext } from '../../core/observability/log-context';
import { authOf } from '../middleware/authenticate';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import { streamRobot } from '../robot-stream';
import type { RobotsService } from '../robots.service';
import { createRobotBody, idempotencyKeyHeader, listRobotsQuery, robotIdParams } from '../schemas';

export interface RobotsRouteOptions {
  events: RobotEvents;
  json: JsonLimits;
  temporalUiUrl: string;
  namespace: string;
}

/** A robot as the API shows it: the view and its links (also the fast path's, api/hot-path). */
export function withLinks(
  robot: RobotView,
  options: Pick<RobotsRouteOptions, 'temporalUiUrl' | 'namespace'>,
) {
  return {
    ...robot,
    links: {
      self: `/v1/robots/${robot.robotId}`,
      temporalUi: temporalUiRobotUrl(options.temporalUiUrl, options.namespace, robot.robotId),
    },
  };
}

export function robotsRoutes(service: RobotsService, options: RobotsRouteOptions): Router {
  const router = Router();
  router.param('id', (_req, _res, next, id) => {
    addLogContext({ robotId: String(id) });
    next();
  });
  const present = (robot: RobotView) => withLinks(robot, options);

  router.post('/robots', ...jsonBody(options.json), async (req, res) => {
    const key = parseOrThrow(idempotencyKeyHeader, req.get('idempotency-key'), 'headers');
    const body = parseOrThrow(createRobotBody, req.body ?? {}, 'body');
    const { robot, created } = await service.create(body, key, authOf(res)?.id ?? null);
    res
      .status(created ? 201 : 200)
      .location(`/v1/robots/${robot.robotId}`)
      .json(present(robot));
  });

  router.get('/robots', async (req, res) => {
    const query = parseOrThrow(listRobotsQuery, req.query, 'query');
    const page = await service.list(query);
    res.json({ items: page.items.map(present), nextCursor: page.nextCursor });
  });

  router.get('/robots/:id/events', async (req, res) => {
    const { id } = parseOrThrow(robotIdParams, req.params, 'params');
    await service.get(id); // 404 as problem+json before the stream starts
    await streamRobot(req, res, {
      robotId: id,
      events: options.events,
      read: async () => (await service.get(id)).robot,
      present,
      pollMs: options.events.live ? 5000 : 1000,
    });
  });

  router.get('/robots/:id', async (req, res) => {
    const { id } = parseOrThrow(robotIdParams, req.params, 'params');
    const { robot, source } = await service.get(id);
    res.setHeader('x-robot-source', source);
    res.json(present(robot));
  });

  return router;
}
