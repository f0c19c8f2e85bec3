import { and, desc, eq, inArray, lt, notInArray, or, type SQL, sql } from 'drizzle-orm';
import type { NotifyRequest } from '../core/domain/notification-delivery';
import { TERMINAL_STATUSES } from '../core/domain/robot';
import type { Database } from './client';
import { type AlertRow, alerts, moduleRegistry, robots } from './schema';

export interface NewAlert {
  rule: string;
  subject: string;
  severity: string;
  value: number;
  threshold: number;
  message: string;
}

export class AlertsRepository {
  constructor(
    private readonly db: Database,
    private readonly readDb: Database = db,
  ) {}

  /** Returns the new row, or null when this rule and subject already fire (another replica). */
  async fire(alert: NewAlert): Promise<AlertRow | null> {
    const rows = await this.db
      .insert(alerts)
      .values(alert)
      .onConflictDoNothing({ target: [alerts.rule, alerts.subject], where: sql`status = 'firing'` })
      .returning();
    return rows[0] ?? null;
  }

  async resolve(rule: string, subject: string, value: number): Promise<AlertRow | null> {
    const rows = await this.db
      .update(alerts)
      .set({ status: 'resolved', resolvedAt: new Date(), resolvedValue: value })
      .where(and(eq(alerts.rule, rule), eq(alerts.subject, subject), eq(alerts.status, 'firing')))
      .returning();
    return rows[0] ?? null;
  }

  async firing(): Promise<AlertRow[]> {
    return this.readDb.select().from(alerts).where(eq(alerts.status, 'firing'));
  }

  async list(query: {
    status?: 'firing' | 'resolved';
    limit: number;
    /** Alerts older than this (fired_at, alert_id). */
    after?: { at: Date; id: string } | undefined;
  }): Promise<AlertRow[]> {
    const filters: SQL[] = [];
    if (query.status) filters.push(eq(alerts.status, query.status));
    if (query.after) {
      const { at, id } = query.after;
      const older = or(lt(alerts.firedAt, at), and(eq(alerts.firedAt, at), lt(alerts.alertId, id)));
      if (older) filters.push(older);
    }
    return this.readDb
      .select()
      .from(alerts)
      .where(filters.length > 0 ? and(...filters) : undefined)
      .orderBy(desc(alerts.firedAt), desc(alerts.alertId))
      .limit(query.limit);
  }

  /** Active modules and whether each is healthy (the health monitor's verdict). */
  async moduleHealth(): Promise<{ module: string; healthy: boolean }[]> {
    const rows = await this.readDb
      .select({ module: moduleRegistry.moduleName, health: moduleRegistry.healthStatus })
      .from(moduleRegistry)
      .where(eq(moduleRegistry.isActive, true));
    // 'unknown' = not judged yet (a module registered since the last health check).
    return rows.map((row) => ({
      module: row.module,
      healthy: row.health === 'healthy' || row.health === 'unknown',
    }));
  }

  async parkedRobots(): Promise<number> {
    const [row] = await this.readDb
      .select({ n: sql<number>`count(*)::int` })
      .from(robots)
      .where(eq(robots.status, 'parked'));
    return row?.n ?? 0;
  }

  /** Unfinished robots past their risk point or their deadline (the sla_at_risk rule). */
  async slaAtRiskRobots(): Promise<number> {
    const [row] = await this.readDb
      .select({ n: sql<number>`count(*)::int` })
      .from(robots)
      .where(
        and(
          inArray(robots.slaState, ['at_risk', 'missed']),
          notInArray(robots.status, [...TERMINAL_STATUSES]),
        ),
      );
    return row?.n ?? 0;
  }
}

/** The notification of an alert's transition; the event key makes a retry reuse its delivery rows. */
export function alertNotice(alert: AlertRow, transition: 'fired' | 'resolved'): NotifyRequest {
  return {
    event: transition === 'fired' ? 'alert.fired' : 'alert.resolved',
    eventKey: `alert:${alert.alertId}:${transition}`,
    robotType: null,
    payload: { alert },
  };
}
