import { Router } from 'express';
import type { RobotView } from '../../core/domain/robot';
import type { RobotEvents } from '../../core/domain/robot-events';
import { temporalUiRobotUrl } from '../../core/domain/temporal-ui';
import { addLogContext } from '../../core/observability/log-context';
import { rateLimitRejections } from '../../core/observability/metrics';
import { setAudit } from '../middleware/audit-trail';
import { authOf } from '../middleware/authenticate';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { problem, sendProblem } from '../middleware/problem';
import { parseOrThrow } from '../middleware/validate';
import { streamRobot } from '../robot-stream';
import { ConcurrencyLimitError, type RobotsService } from '../robots.service';
import { createRobotBody, idempotencyKeyHeader, listRobotsQuery, robotIdParams } from '../schemas';
import type { ShutdownDrain } from '../shutdown-drain';

export interface RobotsRouteOptions {
  events: RobotEvents;
  json: JsonLimits;
  temporalUiUrl: string;
  namespace: string;
  /** MAX_RUNNING_ROBOTS_PER_KEY: unfinished robots a key may have before a create answers 429. */
  maxRunningPerKey: number;
  /** Ends the event streams on shutdown. */
  drain?: ShutdownDrain;
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
    const requestId = res.getHeader('x-request-id');
    let result: Awaited<ReturnType<RobotsService['create']>>;
    try {
      result = await service.create(body, key, authOf(res)?.id ?? null, undefined, undefined, {
        ip: req.ip ?? null,
        requestId: typeof requestId === 'string' ? requestId : null,
        maxUnfinished: options.maxRunningPerKey,
      });
    } catch (err) {
      if (!(err instanceof ConcurrencyLimitError)) throw err;
      res.setHeader('retry-after', '5');
      rateLimitRejections.inc({ reason: 'concurrency-limit' });
      sendProblem(
        res,
        problem(429, 'concurrency-limit', err.message, { limit: err.limit, running: err.running }),
      );
      return;
    }
    const { robot, created } = result;
    // A new robot's audit row went in with its row (ADR 0042): the audit trail adds none for a 201.
    if (created) setAudit(res, { recordedStatus: 201 });
    res
      .status(created ? 201 : 200)
      .location(`/v1/robots/${robot.robotId}`)
      .json(present(robot));
    if (created) service.remember(robot);
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
      ...(options.drain ? { drain: options.drain } : {}),
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
