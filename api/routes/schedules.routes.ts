import { Router } from 'express';
import { z } from 'zod';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import {
  backfillScheduleBody,
  createScheduleBody,
  nextRunsQuery,
  scheduleIdParams,
  scheduleNoteBody,
  triggerScheduleBody,
  updateScheduleBody,
} from '../schedule.schemas';
import type { SchedulesService } from '../schedules.service';

/** /v1/schedules: reads need robots:read, every change admin (route-scopes.ts); changes are audited. */
export function schedulesRoutes(service: SchedulesService, options: { json: JsonLimits }): Router {
  const router = Router();
  const idOf = (params: unknown) => parseOrThrow(scheduleIdParams, params, 'params').id;

  router.post('/schedules', ...jsonBody(options.json), async (req, res) => {
    const body = parseOrThrow(createScheduleBody, req.body ?? {}, 'body');
    const schedule = await service.create(body);
    res.status(201).location(`/v1/schedules/${schedule.id}`).json(schedule);
  });

  router.get('/schedules', async (req, res) => {
    parseOrThrow(z.object({}).strict(), req.query, 'query');
    res.json({ items: await service.list() });
  });

  router.get('/schedules/:id', async (req, res) => {
    res.json(await service.get(idOf(req.params)));
  });

  router.patch('/schedules/:id', ...jsonBody(options.json), async (req, res) => {
    const id = idOf(req.params);
    const raw = (req.body ?? {}) as Record<string, unknown>;
    const parsed = parseOrThrow(updateScheduleBody, raw, 'body');
    // Only what the request named: defaults must not overwrite the schedule's current values.
    const patch = Object.fromEntries(Object.entries(parsed).filter(([key]) => key in raw));
    res.json(await service.update(id, patch));
  });

  router.delete('/schedules/:id', async (req, res) => {
    await service.delete(idOf(req.params));
    res.status(204).end();
  });

  router.post('/schedules/:id/pause', ...jsonBody(options.json), async (req, res) => {
    const { note } = parseOrThrow(scheduleNoteBody, req.body ?? {}, 'body');
    res.json(await service.pause(idOf(req.params), note));
  });

  router.post('/schedules/:id/resume', ...jsonBody(options.json), async (req, res) => {
    const { note } = parseOrThrow(scheduleNoteBody, req.body ?? {}, 'body');
    res.json(await service.resume(idOf(req.params), note));
  });

  router.post('/schedules/:id/trigger', ...jsonBody(options.json), async (req, res) => {
    const id = idOf(req.params);
    const { overlap } = parseOrThrow(triggerScheduleBody, req.body ?? {}, 'body');
    await service.trigger(id, overlap);
    res.status(202).json({ id, triggered: true });
  });

  router.post('/schedules/:id/backfill', ...jsonBody(options.json), async (req, res) => {
    const id = idOf(req.params);
    const body = parseOrThrow(backfillScheduleBody, req.body ?? {}, 'body');
    const { runs } = await service.backfill(id, {
      start: new Date(body.start),
      end: new Date(body.end),
      ...(body.overlap ? { overlap: body.overlap } : {}),
    });
    res.status(202).json({ id, runs });
  });

  router.get('/schedules/:id/next', async (req, res) => {
    const id = idOf(req.params);
    const { count } = parseOrThrow(nextRunsQuery, req.query, 'query');
    res.json({ items: await service.next(id, count) });
  });

  return router;
}
