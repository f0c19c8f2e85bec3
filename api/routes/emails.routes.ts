import { Router } from 'express';
import type { SentEmailsRepository } from '../../db/sent-emails.repository';
import { toSentEmailView } from '../../db/views/sent-email.view';
import { cursorAfter, keysetPage } from '../cursor';
import { parseOrThrow } from '../middleware/validate';
import { listEmailsQuery } from '../schemas';

/** GET /v1/emails (robots:read): the outbox of the send-email step, newest first, keyset-paged. */
export function emailsRoutes(sentEmails: SentEmailsRepository): Router {
  const router = Router();
  router.get('/emails', async (req, res) => {
    const query = parseOrThrow(listEmailsQuery, req.query, 'query');
    const rows = await sentEmails.list({
      robotId: query.robotId,
      from: query.from ? new Date(query.from) : undefined,
      to: query.to ? new Date(query.to) : undefined,
      limit: query.limit + 1,
      after: cursorAfter(query.cursor),
    });
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => ({
      at: row.sentAt,
      id: row.robotId,
    }));
    res.json({ items: page.map(toSentEmailView), nextCursor });
  });
  return router;
}
