import type {
  DeliveryStore,
  NotifyOutcome,
  NotifyRequest,
  Subscription,
  WebhookResult,
} from '../../domain/notification-delivery';
import type { EmailNotifier } from '../mail/email-notification.sender';
import type { SsrfGuard } from './ssrf.guard';
import { sendWebhook } from './webhook.client';

/**
 * Delivers one event to every matching subscription, at most once each: deliveries already
 * delivered (or permanently failed) are skipped, so the caller may retry the whole call.
 * `finalAttempt`: a retryable failure becomes permanent (the caller stops retrying).
 */
export class Notifier {
  constructor(
    private readonly store: DeliveryStore,
    private readonly guard: SsrfGuard,
    private readonly timeoutMs: number,
    /** Null without SMTP_URL: email deliveries then fail for good, with that reason. */
    private readonly email: EmailNotifier | null = null,
  ) {}

  async notify(request: NotifyRequest, finalAttempt = false): Promise<NotifyOutcome> {
    const outcome: NotifyOutcome = { delivered: 0, failed: 0, pending: 0 };
    const subscriptions = await this.store.subscriptionsFor(request.event, request.robotType);
    for (const subscription of subscriptions) {
      const delivery = await this.store.delivery(
        subscription.subscriptionId,
        request.eventKey,
        request.event,
      );
      if (delivery.status === 'delivered') {
        outcome.delivered += 1;
        continue;
      }
      if (delivery.status === 'failed') {
        outcome.failed += 1;
        continue;
      }
      const occurredAt = new Date().toISOString();
      const result =
        subscription.channel === 'email'
          ? await this.sendEmail(subscription, request, delivery.deliveryId, occurredAt)
          : await sendWebhook(this.guard, {
              url: subscription.target,
              secret: subscription.secret,
              event: request.event,
              deliveryId: delivery.deliveryId,
              body: JSON.stringify({
                id: delivery.deliveryId,
                event: request.event,
                occurredAt,
                data: request.payload,
              }),
              timeoutMs: this.timeoutMs,
              nowSeconds: Math.floor(Date.now() / 1000),
            });
      const final = result.ok || !result.retryable || finalAttempt;
      await this.store.recordAttempt(delivery.deliveryId, result, final);
      if (result.ok) outcome.delivered += 1;
      else if (final) outcome.failed += 1;
      else outcome.pending += 1;
    }
    return outcome;
  }

  private sendEmail(
    subscription: Subscription,
    request: NotifyRequest,
    deliveryId: string,
    occurredAt: string,
  ): Promise<WebhookResult> {
    if (!this.email) {
      return Promise.resolve({
        ok: false,
        retryable: false,
        error: 'email channel: SMTP_URL is not configured on the control worker',
      });
    }
    return this.email.send({
      to: subscription.target,
      event: request.event,
      deliveryId,
      occurredAt,
      data: request.payload,
    });
  }
}
