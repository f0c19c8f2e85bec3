import { Router } from 'express';
import type { AlertsRepository } from '../../db/alerts.repository';
import { cursorAfter, keysetPage } from '../cursor';
import { parseOrThrow } from '../middleware/validate';
import { listAlertsQuery } from '../schemas';

/** GET /v1/alerts: newest first, optionally only firing or resolved ones, cursor-paginated. */
export function alertsRoutes(alerts: AlertsRepository): Router {
  const router = Router();
  router.get('/alerts', async (req, res) => {
    const query = parseOrThrow(listAlertsQuery, req.query, 'query');
    const rows = await alerts.list({
      ...(query.status ? { status: query.status } : {}),
      limit: query.limit + 1,
      after: cursorAfter(query.cursor),
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => ({
      at: row.firedAt,
      id: row.alertId,
    }));
    res.json({ items: page, nextCursor });
  });
  return router;
}
