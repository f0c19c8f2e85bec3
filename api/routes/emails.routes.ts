import { Router } from 'express';
import type { SentEmailRow } from '../../db/schema';
import type { SentEmailsRepository } from '../../db/sent-emails.repository';
import { cursorAfter, keysetPage } from '../cursor';
import { parseOrThrow } from '../middleware/validate';
import { listEmailsQuery } from '../schemas';

function toEmailView(row: SentEmailRow) {
  return {
    robotId: row.robotId,
    step: row.step,
    messageId: row.messageId,
    recipients: row.recipients,
    subject: row.subject,
    sentAt: row.sentAt.toISOString(),
  };
}

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
    res.json({ items: page.map(toEmailView), nextCursor });
  });
  return router;
}
