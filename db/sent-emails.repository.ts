import { and, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import type { Database } from './client';
import { type SentEmailRow, sentEmails } from './schema';

export interface SentEmailsQuery {
  robotId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  /** Rows older than this (sent_at, robot_id). */
  after?: { at: Date; id: string } | undefined;
}

export class SentEmailsRepository {
  constructor(
    private readonly db: Database,
    private readonly readDb: Database = db,
  ) {}

  async find(robotId: string, step: string): Promise<SentEmailRow | null> {
    const [row] = await this.db
      .select()
      .from(sentEmails)
      .where(and(eq(sentEmails.robotId, robotId), eq(sentEmails.step, step)));
    return row ?? null;
  }

  async record(row: Omit<SentEmailRow, 'sentAt'>): Promise<void> {
    await this.db.insert(sentEmails).values(row).onConflictDoNothing();
  }

  /** The outbox (dashboard, demo): newest first. */
  latest(limit: number): Promise<SentEmailRow[]> {
    return this.db.select().from(sentEmails).orderBy(desc(sentEmails.sentAt)).limit(limit);
  }

  /**
   * Newest first, keyset-paged on (sent_at, robot_id). One robot's send-email steps run one after
   * the other, so two of its rows never share a millisecond and the pair is unique in practice.
   */
  list(query: SentEmailsQuery): Promise<SentEmailRow[]> {
    const filters: SQL[] = [];
    if (query.robotId) filters.push(eq(sentEmails.robotId, query.robotId));
    if (query.from) filters.push(gte(sentEmails.sentAt, query.from));
    if (query.to) filters.push(lte(sentEmails.sentAt, query.to));
    if (query.after) {
      const { at, id } = query.after;
      const older = or(lt(sentEmails.sentAt, at), and(eq(sentEmails.sentAt, at), lt(sentEmails.robotId, id)));
      if (older) filters.push(older);
    }
    return this.readDb
      .select()
      .from(sentEmails)
      .where(filters.length > 0 ? and(...filters) : undefined)
      .orderBy(desc(sentEmails.sentAt), desc(sentEmails.robotId), desc(sentEmails.step))
      .limit(query.limit);
  }
}
