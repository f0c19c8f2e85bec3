import { Router } from 'express';
import type { AuditRepository } from '../../db/audit.repository';
import { toAuditView } from '../../db/views/audit.view';
import { cursorAfter, keysetPage } from '../cursor';
import { parseOrThrow } from '../middleware/validate';
import { listAuditQuery } from '../schemas';

/** GET /v1/audit (admin): newest first, filtered, keyset-paged like /v1/robots. */
export function auditRoutes(audit: AuditRepository): Router {
  const router = Router();
  router.get('/audit', async (req, res) => {
    const query = parseOrThrow(listAuditQuery, req.query, 'query');
    const rows = await audit.list({
      keyId: query.keyId,
      actor: query.actor,
      action: query.action,
      outcome: query.outcome,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      limit: query.limit + 1,
      after: cursorAfter(query.cursor),
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => ({ at: row.at, id: row.id }));
    res.json({ items: page.map(toAuditView), nextCursor });
  });
  return router;
}
