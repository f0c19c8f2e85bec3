import { and, arrayContains, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type {
  Delivery,
  DeliveryStore,
  NotificationChannel,
  Subscription,
  WebhookResult,
} from '../core/domain/notification-delivery';
import type { NotificationEvent } from '../core/domain/notification-events';
import type { Database } from './client';
import {
  type DeliveryRow,
  notificationDeliveries,
  notificationSubscriptions,
  type SubscriptionRow,
} from './schema';

const SUBSCRIBER_MEMO_MS = 5000;

export class NotificationsRepository implements DeliveryStore {
  private readonly subscriberMemo = new Map<string, { value: boolean; until: number }>();

  constructor(private readonly db: Database) {}

  async createSubscription(row: {
    robotType: string | null;
    events: NotificationEvent[];
    channel: NotificationChannel;
    target: string;
    secret: string;
  }): Promise<SubscriptionRow> {
    const [created] = await this.db.insert(notificationSubscriptions).values(row).returning();
    if (!created) throw new Error('insert returned no row');
    return created;
  }

  listSubscriptions(): Promise<SubscriptionRow[]> {
    return this.db
      .select()
      .from(notificationSubscriptions)
      .orderBy(desc(notificationSubscriptions.createdAt));
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const rows = await this.db
      .delete(notificationSubscriptions)
      .where(eq(notificationSubscriptions.subscriptionId, id))
      .returning({ id: notificationSubscriptions.subscriptionId });
    return rows.length > 0;
  }

  listDeliveries(subscriptionId: string, limit: number): Promise<DeliveryRow[]> {
    return this.db
      .select()
      .from(notificationDeliveries)
      .where(eq(notificationDeliveries.subscriptionId, subscriptionId))
      .orderBy(desc(notificationDeliveries.createdAt))
      .limit(limit);
  }

  async subscriptionsFor(event: NotificationEvent, robotType: string | null): Promise<Subscription[]> {
    const typeMatches = robotType
      ? or(isNull(notificationSubscriptions.robotType), eq(notificationSubscriptions.robotType, robotType))
      : isNull(notificationSubscriptions.robotType);
    return this.db
      .select({
        subscriptionId: notificationSubscriptions.subscriptionId,
        channel: notificationSubscriptions.channel,
        target: notificationSubscriptions.target,
        secret: notificationSubscriptions.secret,
      })
      .from(notificationSubscriptions)
      .where(
        and(
          eq(notificationSubscriptions.active, true),
          arrayContains(notificationSubscriptions.events, [event]),
          typeMatches,
        ),
      );
  }

  /**
   * Asked on every robot status change that people may hear about: remembered for a few seconds
   * per event and type, so a busy system costs one query per type every few seconds, not per robot.
   */
  async hasSubscribers(event: NotificationEvent, robotType: string): Promise<boolean> {
    const key = `${event}|${robotType}`;
    const now = Date.now();
    const known = this.subscriberMemo.get(key);
    if (known && known.until > now) return known.value;
    const value = (await this.subscriptionsFor(event, robotType)).length > 0;
    this.subscriberMemo.set(key, { value, until: now + SUBSCRIBER_MEMO_MS });
    return value;
  }

  async delivery(subscriptionId: string, eventKey: string, event: NotificationEvent): Promise<Delivery> {
    await this.db
      .insert(notificationDeliveries)
      .values({ subscriptionId, eventKey, event })
      .onConflictDoNothing({
        target: [notificationDeliveries.subscriptionId, notificationDeliveries.eventKey],
      });
    const [row] = await this.db
      .select({ deliveryId: notificationDeliveries.deliveryId, status: notificationDeliveries.status })
      .from(notificationDeliveries)
      .where(
        and(
          eq(notificationDeliveries.subscriptionId, subscriptionId),
          eq(notificationDeliveries.eventKey, eventKey),
        ),
      );
    if (!row) throw new Error('delivery row missing after insert');
    return row;
  }

  async recordAttempt(deliveryId: string, result: WebhookResult, final: boolean): Promise<void> {
    await this.db
      .update(notificationDeliveries)
      .set({
        attempts: sql`${notificationDeliveries.attempts} + 1`,
        lastStatusCode: result.status ?? null,
        lastError: result.ok ? null : (result.error ?? null),
        status: result.ok ? 'delivered' : final ? 'failed' : 'pending',
        ...(result.ok ? { deliveredAt: new Date() } : {}),
      })
      .where(eq(notificationDeliveries.deliveryId, deliveryId));
  }
}
