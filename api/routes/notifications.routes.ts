import { Router } from 'express';
import { newWebhookSecret } from '../../core/adapters/crypto/standard-webhooks';
import { type SsrfGuard, TargetRefusedError } from '../../core/adapters/http/ssrf.guard';
import { NotFoundError, UnprocessableError } from '../../core/domain/errors';
import type { NotificationsRepository } from '../../db/notifications.repository';
import type { SubscriptionRow } from '../../db/schema';
import { type JsonLimits, jsonBody } from '../middleware/json-body';
import { parseOrThrow } from '../middleware/validate';
import { createSubscriptionBody, subscriptionParams } from '../schemas';

const view = ({ secret: _secret, ...row }: SubscriptionRow) => row;

/** Webhook and email subscriptions to robot and alert events; webhook deliveries are signed with the secret. */
export function notificationsRoutes(
  repository: NotificationsRepository,
  guard: SsrfGuard,
  options: { json: JsonLimits; emailEnabled: boolean },
): Router {
  const router = Router();
  const base = '/notifications/subscriptions';

  router.post(base, ...jsonBody(options.json), async (req, res) => {
    const body = parseOrThrow(createSubscriptionBody, req.body ?? {}, 'body');
    const common = { robotType: body.robotType ?? null, events: [...new Set(body.events)] };
    if (body.channel === 'email') {
      // The control worker sends with the same configuration: without a relay nothing would arrive.
      if (!options.emailEnabled) {
        throw new UnprocessableError('email subscriptions need SMTP_URL to be configured', {
          errors: [{ field: 'body.channel', message: 'SMTP_URL is not configured' }],
        });
      }
      const row = await repository.createSubscription({
        ...common,
        channel: 'email',
        target: body.target ?? '',
        secret: '',
      });
      res.status(201).location(`/v1${base}/${row.subscriptionId}`).json(view(row));
      return;
    }
    const url = body.url ?? '';
    try {
      await guard.resolve(new URL(url));
    } catch (err) {
      if (!(err instanceof TargetRefusedError)) throw err;
      throw new UnprocessableError(`webhook target refused: ${err.message}`, {
        errors: [{ field: 'body.url', message: err.message }],
      });
    }
    const secret = body.secret ?? newWebhookSecret();
    const row = await repository.createSubscription({ ...common, channel: 'webhook', target: url, secret });
    // The only time the secret is shown: receivers need it to verify signatures.
    res
      .status(201)
      .location(`/v1${base}/${row.subscriptionId}`)
      .json({ ...view(row), secret });
  });

  router.get(base, async (_req, res) => {
    res.json({ items: (await repository.listSubscriptions()).map(view) });
  });

  router.delete(`${base}/:id`, async (req, res) => {
    const { id } = parseOrThrow(subscriptionParams, req.params, 'params');
    if (!(await repository.deleteSubscription(id))) throw new NotFoundError(`subscription ${id} not found`);
    res.status(204).end();
  });

  router.get(`${base}/:id/deliveries`, async (req, res) => {
    const { id } = parseOrThrow(subscriptionParams, req.params, 'params');
    res.json({ items: await repository.listDeliveries(id, 100) });
  });

  return router;
}
