import { and, desc, eq } from 'drizzle-orm';
import type { Database } from './client';
import { type SentEmailRow, sentEmails } from './schema';

export class SentEmailsRepository {
  constructor(private readonly db: Database) {}

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
}
