import { and, desc, eq, gte, isNull, lt, lte, ne, or, type SQL, sql } from 'drizzle-orm';
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

  /**
   * Writes the intent (`sending`) before the SMTP exchange. False when the robot and step already
   * have a row: an earlier attempt got there first, and this one must not send.
   */
  async claim(row: Omit<SentEmailRow, 'sentAt' | 'status'>): Promise<boolean> {
    const inserted = await this.db
      .insert(sentEmails)
      .values({ ...row, status: 'sending' })
      .onConflictDoNothing()
      .returning({ robotId: sentEmails.robotId });
    return inserted.length > 0;
  }

  /**
   * A `sending` intent of another workflow run (the robot was retried after an unknown outcome)
   * becomes this run's: the retry is the decision to send again, with the same Message-ID.
   */
  async takeOver(robotId: string, step: string, runId: string): Promise<boolean> {
    const taken = await this.db
      .update(sentEmails)
      .set({ runId, sentAt: sql`now()` })
      .where(
        and(
          eq(sentEmails.robotId, robotId),
          eq(sentEmails.step, step),
          eq(sentEmails.status, 'sending'),
          or(isNull(sentEmails.runId), ne(sentEmails.runId, runId)),
        ),
      )
      .returning({ robotId: sentEmails.robotId });
    return taken.length > 0;
  }

  /** The relay accepted the message (250). */
  async markSent(robotId: string, step: string): Promise<void> {
    await this.db
      .update(sentEmails)
      .set({ status: 'sent', sentAt: sql`now()` })
      .where(and(eq(sentEmails.robotId, robotId), eq(sentEmails.step, step)));
  }

  /** The relay certainly did not take the message (it refused, or was never reached): another attempt may send. */
  async release(robotId: string, step: string): Promise<void> {
    await this.db
      .delete(sentEmails)
      .where(
        and(eq(sentEmails.robotId, robotId), eq(sentEmails.step, step), eq(sentEmails.status, 'sending')),
      );
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
