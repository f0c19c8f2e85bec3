import { randomUUID } from 'node:crypto';
import type { NotificationEvent } from '../../domain/notification-events';
import type { EmailNotifier } from '../mail/email-notification.sender';
import type { SsrfGuard } from './ssrf.guard';
import { sendWebhook, type WebhookResult } from './webhook.client';

export type NotificationChannel = 'webhook' | 'email';

export interface Subscription {
  subscriptionId: string;
  channel: NotificationChannel;
  /** The webhook URL, or the email address. */
  target: string;
  secret: string;
}

export interface Delivery {
  deliveryId: string;
  status: 'pending' | 'delivered' | 'failed';
}

/** Persistence the notifier needs (db/notifications.repository.ts). */
export interface DeliveryStore {
  subscriptionsFor(event: NotificationEvent, robotType: string | null): Promise<Subscription[]>;
  /** The delivery of this event to this subscription, created on first use. */
  delivery(subscriptionId: string, eventKey: string, event: NotificationEvent): Promise<Delivery>;
  recordAttempt(deliveryId: string, result: WebhookResult, final: boolean): Promise<void>;
}

export interface NotifyRequest {
  event: NotificationEvent;
  /** Stable per occurrence (e.g. `<robotId>:completed`): a retry re-uses the delivery rows. */
  eventKey: string;
  robotType: string | null;
  payload: Record<string, unknown>;
}

export interface NotifyOutcome {
  delivered: number;
  failed: number;
  /** Failed this time but worth retrying (network, 408, 429, 5xx). */
  pending: number;
}

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

export function newWebhookSecret(): string {
  return `whsec_${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '')}`;
}
