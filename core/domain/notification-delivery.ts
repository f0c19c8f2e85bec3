import type { NotificationEvent } from './notification-events';

// What delivering a notification involves, whatever the channel: subscriptions, one delivery row
// per event and subscription, and the result of an attempt. The notifier (core/adapters/http/notifier.ts)
// sends; db/notifications.repository.ts keeps the rows.

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

/** One delivery attempt's result, by webhook or email (the email channel reports in the same shape). */
export interface WebhookResult {
  ok: boolean;
  status?: number;
  error?: string;
  /** Worth another attempt later: network errors, timeouts, 408, 429 and 5xx. */
  retryable: boolean;
}
