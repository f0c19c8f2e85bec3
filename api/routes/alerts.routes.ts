import { Router } from 'express';
import type { AlertsRepository } from '../../db/alerts.repository';
import { decodeCursor, encodeCursor } from '../cursor';
import { parseOrThrow } from '../middleware/validate';
import { listAlertsQuery } from '../schemas';

/** GET /v1/alerts: newest first, optionally only firing or resolved ones, cursor-paginated. */
export function alertsRoutes(alerts: AlertsRepository): Router {
  const router = Router();
  router.get('/alerts', async (req, res) => {
    const query = parseOrThrow(listAlertsQuery, req.query, 'query');
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await alerts.list({
      ...(query.status ? { status: query.status } : {}),
      limit: query.limit + 1,
      ...(after ? { after: { firedAt: after.createdAt, alertId: after.robotId } } : {}),
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      items: page,
      nextCursor:
        rows.length > query.limit && last
          ? encodeCursor({ createdAt: last.firedAt, robotId: last.alertId })
          : null,
    });
  });
  return router;
}
