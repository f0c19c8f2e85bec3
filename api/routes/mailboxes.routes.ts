import { Router } from 'express';
import type { MailboxesService } from '../mailboxes.service';

/** GET /v1/mailboxes: configured email-intake mailboxes with their monitor's state. */
export function mailboxesRoutes(mailboxes: MailboxesService): Router {
  const router = Router();
  router.get('/mailboxes', async (_req, res) => {
    res.json({ items: await mailboxes.list() });
  });
  return router;
}
