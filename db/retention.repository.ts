import { sql } from 'drizzle-orm';
import type { RetentionPolicy } from '../core/domain/retention';
import { TERMINAL_STATUSES } from '../core/domain/robot';
import type { Database } from './client';

// The deletes of retention (docs/adr/0050-retention.md). Each statement is bounded by its limit and
// safe to run again: what it removed is gone, and nothing it keeps depends on what it removed. The
// audit log is not touched (it is append-only, and keeps the record of robots purged here).

export interface PurgedRobots {
  robots: number;
  executions: number;
  archivedExecutions: number;
  sentEmails: number;
}

/** A UUID anywhere in a robot's input or output: the document ids its steps may read. */
const UUID_IN_TEXT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const count = (value: unknown): number => Number(value ?? 0);

export class RetentionRepository {
  constructor(private readonly db: Database) {}

  /**
   * Deletes up to `limit` finished robots whose last change (their finish) is older than their type's
   * retention, with their executions, archived executions and sent-email rows, in one statement.
   * Unfinished robots are never candidates, whatever their age. Rows locked by a writer are skipped
   * (a robot being retried this instant stays).
   */
  async purgeFinishedRobots(policy: RetentionPolicy, limit: number): Promise<PurgedRobots> {
    const shortest = Math.min(policy.defaultDays, ...Object.values(policy.byType));
    const finished = sql.join(
      TERMINAL_STATUSES.map((status) => sql`${status}`),
      sql`, `,
    );
    const rows = await this.db.execute(sql`
      with policy as (
        select key as robot_type, value::int as days from jsonb_each_text(${JSON.stringify(policy.byType)}::jsonb)
      ),
      victims as (
        select r.robot_id from robots r left join policy p on p.robot_type = r.robot_type
        where r.status in (${finished})
          -- created before its finish: lets the (status, created_at) index narrow the scan
          and r.created_at < now() - make_interval(days => ${shortest})
          and r.updated_at < now() - make_interval(days => coalesce(p.days, ${policy.defaultDays}))
        order by r.updated_at
        limit ${limit}
        for update of r skip locked
      ),
      executions as (delete from robot_execute e using victims v where e.robot_id = v.robot_id returning 1),
      archived as (delete from robot_execute_archive a using victims v where a.robot_id = v.robot_id returning 1),
      emails as (delete from sent_emails s using victims v where s.robot_id = v.robot_id returning 1),
      purged as (delete from robots r using victims v where r.robot_id = v.robot_id returning 1)
      select (select count(*) from purged) as robots,
             (select count(*) from executions) as executions,
             (select count(*) from archived) as archived_executions,
             (select count(*) from emails) as sent_emails`);
    const row = (rows as unknown as { rows: Record<string, unknown>[] }).rows[0] ?? {};
    return {
      robots: count(row.robots),
      executions: count(row.executions),
      archivedExecutions: count(row.archived_executions),
      sentEmails: count(row.sent_emails),
    };
  }

  /**
   * Deletes up to `limit` document rows older than `graceHours` whose id no robot's input or output
   * mentions, and returns them. One pass over robots finds every id they mention (robot ids are
   * created after the documents they name, and purged robots are gone, so the pass stays bounded by
   * the retention); the grace period keeps a fresh upload whose robot is not created yet.
   */
  async purgeOrphanDocuments(
    graceHours: number,
    limit: number,
  ): Promise<{ documentId: string; sha256: string }[]> {
    const rows = await this.db.execute(sql`
      with mentioned as materialized (
        select distinct (m[1])::uuid as id
        from robots r,
             regexp_matches(r.input_data::text || coalesce(r.output_data::text, ''), ${UUID_IN_TEXT}, 'gi') as m
      ),
      orphans as (
        select d.document_id from documents d
        where d.created_at < now() - make_interval(hours => ${graceHours})
          and not exists (select 1 from mentioned x where x.id = d.document_id)
        order by d.created_at
        limit ${limit}
        for update of d skip locked
      )
      delete from documents d using orphans o where d.document_id = o.document_id
      returning d.document_id, d.sha256`);
    return (rows as unknown as { rows: { document_id: string; sha256: string }[] }).rows.map((row) => ({
      documentId: row.document_id,
      sha256: row.sha256,
    }));
  }

  /** Of these content hashes, the ones no document row holds any more (their bytes can go). */
  async unreferencedHashes(sha256s: string[]): Promise<string[]> {
    if (sha256s.length === 0) return [];
    const rows = await this.db.execute(sql`
      select h.sha256 from jsonb_array_elements_text(${JSON.stringify([...new Set(sha256s)])}::jsonb) as h(sha256)
      where not exists (select 1 from documents d where d.sha256 = h.sha256)`);
    return (rows as unknown as { rows: { sha256: string }[] }).rows.map((row) => row.sha256);
  }
}
