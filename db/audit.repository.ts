import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { Database } from './client';
import { type AuditRow, auditLog } from './schema';

export type NewAuditRow = Omit<AuditRow, 'id' | 'at'> & { at?: Date };

/** The row of a change made outside the API: no key, address, request or HTTP status. */
export function auditedChange(change: {
  actor: string;
  action: string;
  target: string | null;
  outcome?: 'success' | 'failure';
}): NewAuditRow {
  return {
    keyId: null,
    actor: change.actor,
    action: change.action,
    target: change.target,
    ip: null,
    requestId: null,
    outcome: change.outcome ?? 'success',
    status: null,
  };
}

export interface AuditQuery {
  keyId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  after?: { at: Date; id: string } | undefined;
}

/** Insert and read only: the audit log has no update or delete path (ADR 0012). */
export class AuditRepository {
  constructor(
    private readonly db: Database,
    private readonly readDb: Database = db,
  ) {}

  async insert(row: NewAuditRow): Promise<void> {
    await this.db.insert(auditLog).values(row);
  }

  /** Newest first, keyset-paged on (at, id). */
  async list(query: AuditQuery): Promise<AuditRow[]> {
    const filters: SQL[] = [];
    if (query.keyId) filters.push(eq(auditLog.keyId, query.keyId));
    if (query.actor) filters.push(eq(auditLog.actor, query.actor));
    if (query.action) filters.push(eq(auditLog.action, query.action));
    if (query.outcome) filters.push(eq(auditLog.outcome, query.outcome));
    if (query.from) filters.push(gte(auditLog.at, query.from));
    if (query.to) filters.push(lte(auditLog.at, query.to));
    if (query.after) {
      const older = or(
        lt(auditLog.at, query.after.at),
        and(eq(auditLog.at, query.after.at), lt(auditLog.id, query.after.id)),
      );
      if (older) filters.push(older);
    }
    return this.readDb
      .select()
      .from(auditLog)
      .where(filters.length > 0 ? and(...filters) : undefined)
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(query.limit);
  }
}
