import {
  and,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  notInArray,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { auditActor } from '../core/domain/audit-actor';
import {
  type RobotPriority,
  type RobotProgress,
  type RobotStatus,
  TERMINAL_STATUSES,
} from '../core/domain/robot';
import type { RobotSla } from '../core/domain/sla';
import { auditedChange, type NewAuditRow } from './audit.repository';
import type { Database } from './client';
import { auditLog, type RobotRow, robots } from './schema';

export interface NewRobot {
  robotId: string;
  robotType: string;
  robotTypeVersion: number;
  priority: RobotPriority;
  inputData: Record<string, unknown>;
  idempotencyKey: string | null;
  requestHash: string | null;
  createdByKeyId?: string | null;
  deadline?: Date | null;
  slaRiskAt?: Date | null;
  slaState?: RobotSla['state'] | null;
}

/** An idempotency key and the API key that used it (null: made without one, e.g. email intake). */
export interface IdempotencyScope {
  key: string;
  apiKeyId: string | null;
}

function inScope({ key, apiKeyId }: IdempotencyScope): SQL | undefined {
  return and(
    eq(robots.idempotencyKey, key),
    apiKeyId === null ? isNull(robots.createdByKeyId) : eq(robots.createdByKeyId, apiKeyId),
  );
}

// The database's clock, as created_at's default uses: no skew between API hosts and Postgres.
const ago = (hours: number) => sql`now() - make_interval(hours => ${hours})`;

export interface RobotListQuery {
  status?: RobotStatus | undefined;
  /** Any of these statuses (the approvals inbox). */
  statuses?: RobotStatus[] | undefined;
  type?: string | undefined;
  limit: number;
  /** Rows older than this (created_at, robot_id). */
  after?: { at: Date; id: string } | undefined;
}

/** The robots a bulk action matches (ADR 0049): every given condition holds; created range inclusive. */
export interface RobotMatch {
  status?: RobotStatus | undefined;
  type?: string | undefined;
  module?: string | undefined;
  createdFrom?: Date | undefined;
  createdTo: Date;
}

function matching(match: RobotMatch): SQL | undefined {
  return and(
    match.status ? eq(robots.status, match.status) : undefined,
    match.type ? eq(robots.robotType, match.type) : undefined,
    match.module ? eq(robots.moduleName, match.module) : undefined,
    match.createdFrom ? gte(robots.createdAt, match.createdFrom) : undefined,
    lte(robots.createdAt, match.createdTo),
  );
}

export interface RobotUpdate {
  status: RobotStatus;
  moduleName: string | null;
  outputData?: Record<string, unknown>;
  errorMessage?: string | null;
  processingTimeMs?: number;
  completenessScore?: number;
  retryCount?: number;
}

const ROBOT_COLUMNS = Object.entries(getTableColumns(robots));

/** A `robots` row read by raw SQL (column names) as the query builder would read it. */
function robotRowFrom(raw: Record<string, unknown>): RobotRow {
  const row: Record<string, unknown> = {};
  for (const [field, column] of ROBOT_COLUMNS) {
    const value = raw[column.name];
    row[field] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as RobotRow;
}

export class RobotsRepository {
  // The status path's database read (a cache miss), prepared once: parsed and planned once per connection.
  private readonly byId;

  constructor(
    private readonly db: Database,
    private readonly readDb: Database = db,
  ) {
    this.byId = readDb
      .select()
      .from(robots)
      .where(eq(robots.robotId, sql.placeholder('robotId')))
      .limit(1)
      .prepare('robot_by_id');
  }

  /**
   * Inserts unless the idempotency key is taken in its scope (the creating API key, or no key);
   * returns the new row, or null on a key clash. With `audit` the row and its audit row commit
   * together: a robot is never on record without its author, nor its author without the robot.
   */
  async insert(robot: NewRobot, audit?: NewAuditRow): Promise<RobotRow | null> {
    return (await this.insertAudited(robot, { audit })).row;
  }

  /**
   * The create path's one round trip: the running-robots cap, the row and its audit row in one
   * statement (so one implicit transaction). `maxUnfinished`: no row unless the creating key has
   * fewer unfinished robots than that; `unfinished` is the count the statement saw (null without a
   * cap). `row` is null on a key clash or a refusal by the cap. Like the separate count before it,
   * the cap is not atomic with concurrent creates of the same key (ADR 0013).
   */
  async insertAudited(
    robot: NewRobot,
    options: { audit?: NewAuditRow | undefined; maxUnfinished?: number | undefined },
  ): Promise<{ row: RobotRow | null; unfinished: number | null }> {
    const { audit, maxUnfinished } = options;
    const keyId = robot.createdByKeyId ?? null;
    const capped = maxUnfinished !== undefined && keyId !== null;
    const cap = capped
      ? sql`cap as (select count(*)::int as unfinished from ${robots}
          where ${robots.createdByKeyId} = ${keyId}::uuid and ${notInArray(robots.status, [...TERMINAL_STATUSES])}),`
      : sql``;
    // The partial unique index of the robot's scope (db/schema.ts): the target must name its predicate.
    const conflict =
      keyId !== null
        ? sql`(created_by_key_id, idempotency_key) where created_by_key_id is not null`
        : sql`(idempotency_key) where created_by_key_id is null`;
    const audited = audit
      ? sql`, audited as (insert into ${auditLog} (key_id, actor, action, target, ip, request_id, outcome, status)
          select ${audit.keyId}::uuid, ${audit.actor}, ${audit.action}, ${audit.target}, ${audit.ip},
            ${audit.requestId}, ${audit.outcome}, ${audit.status}::int from ins)`
      : sql``;
    const at = (date: Date | null | undefined) => (date ? date.toISOString() : null);
    const result = await this.db.execute(sql`with ${cap}
      ins as (insert into ${robots} (robot_id, robot_type, robot_type_version, priority, input_data,
          idempotency_key, request_hash, created_by_key_id, deadline, sla_risk_at, sla_state)
        select ${robot.robotId}::uuid, ${robot.robotType}, ${robot.robotTypeVersion}::int,
          ${robot.priority}::robot_priority, ${JSON.stringify(robot.inputData)}::jsonb, ${robot.idempotencyKey},
          ${robot.requestHash}, ${keyId}::uuid, ${at(robot.deadline)}::timestamptz,
          ${at(robot.slaRiskAt)}::timestamptz, ${robot.slaState ?? null}::sla_state
        ${capped ? sql`where (select unfinished from cap) < ${maxUnfinished}::int` : sql``}
        on conflict ${conflict} do nothing
        returning *)${audited}
      select ${capped ? sql`(select unfinished from cap)` : sql`null::int`} as "__unfinished", ins.*
      from (select 1) as one left join ins on true`);
    // node-postgres and PGlite both answer with `rows`.
    const [raw] = (result as { rows: Record<string, unknown>[] }).rows;
    if (!raw) throw new Error('robot insert returned no result');
    const unfinished = (raw.__unfinished as number | null) ?? null;
    return { row: raw.robot_id ? robotRowFrom(raw) : null, unfinished };
  }

  /**
   * The robot this idempotency key made in its scope, unless it was first used `maxAgeHours` or
   * longer ago (null: keys without an API key do not expire).
   */
  async findByIdempotencyKey(key: IdempotencyScope, maxAgeHours: number | null): Promise<RobotRow | null> {
    const rows = await this.db
      .select()
      .from(robots)
      .where(and(inScope(key), maxAgeHours === null ? undefined : gte(robots.createdAt, ago(maxAgeHours))))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Frees a key of this scope whose first use is `maxAgeHours` or longer ago; its robot stays. */
  async releaseIdempotencyKey(key: IdempotencyScope, maxAgeHours: number): Promise<void> {
    await this.db
      .update(robots)
      .set({ idempotencyKey: null })
      .where(and(inScope(key), lt(robots.createdAt, ago(maxAgeHours))));
  }

  /**
   * Frees up to `limit` API keys' idempotency keys first used `maxAgeHours` or longer ago (the cleanup
   * schedule); returns how many. Keys of robots made without an API key (email intake) stay.
   */
  async releaseExpiredIdempotencyKeys(maxAgeHours: number, limit: number): Promise<number> {
    const expired = this.db
      .select({ robotId: robots.robotId })
      .from(robots)
      .where(
        and(
          isNotNull(robots.idempotencyKey),
          isNotNull(robots.createdByKeyId),
          lt(robots.createdAt, ago(maxAgeHours)),
        ),
      )
      .limit(limit);
    const rows = await this.db
      .update(robots)
      .set({ idempotencyKey: null })
      .where(inArray(robots.robotId, expired))
      .returning({ robotId: robots.robotId });
    return rows.length;
  }

  async findById(robotId: string): Promise<RobotRow | null> {
    const rows = await this.byId.execute({ robotId });
    return rows[0] ?? null;
  }

  /** With `audit`: the removal of a row whose creation was audited outside the API, recorded with it. */
  async delete(robotId: string, audit?: NewAuditRow): Promise<void> {
    if (!audit) {
      await this.db.delete(robots).where(eq(robots.robotId, robotId));
      return;
    }
    await this.db.transaction(async (tx) => {
      const gone = await tx
        .delete(robots)
        .where(eq(robots.robotId, robotId))
        .returning({ id: robots.robotId });
      if (gone.length > 0) await tx.insert(auditLog).values(audit);
    });
  }

  /** Sets a final status on a robot the reconciler found closed in Temporal. */
  async close(
    robotId: string,
    status: RobotStatus,
    outcome: { output?: Record<string, unknown> | undefined; error?: string | null },
  ): Promise<void> {
    await this.db
      .update(robots)
      .set({
        status,
        updatedAt: new Date(),
        ...(outcome.output !== undefined ? { outputData: outcome.output } : {}),
        ...(outcome.error !== undefined ? { errorMessage: outcome.error } : {}),
      })
      .where(eq(robots.robotId, robotId));
  }

  /** Claims a failed robot for a retry: null when it is not failed (any more). */
  async markRetrying(robotId: string): Promise<RobotRow | null> {
    const rows = await this.db
      .update(robots)
      .set({ status: 'queued', errorMessage: null, updatedAt: new Date() })
      .where(and(eq(robots.robotId, robotId), eq(robots.status, 'failed')))
      .returning();
    return rows[0] ?? null;
  }

  /** Undoes markRetrying when the new run could not start. */
  async restoreFailed(robotId: string, errorMessage: string | null): Promise<void> {
    await this.db
      .update(robots)
      .set({ status: 'failed', errorMessage, updatedAt: new Date() })
      .where(and(eq(robots.robotId, robotId), eq(robots.status, 'queued')));
  }

  /**
   * A row for a robot workflow that has none (started outside the API, or its row was lost), audited
   * as the reconciler's in the same transaction. False when a row appeared meanwhile (its workflow's
   * progress wrote it): that one is audited by whoever wrote it.
   */
  async restoreFromWorkflow(robot: {
    robotId: string;
    robotType: string;
    robotTypeVersion: number;
    status: RobotStatus;
    createdAt: Date;
  }): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .insert(robots)
        .values({ ...robot, errorMessage: 'row restored from Temporal by reconciliation; input unknown' })
        .onConflictDoNothing({ target: robots.robotId })
        .returning({ robotId: robots.robotId });
      if (rows.length === 0) return false;
      await tx
        .insert(auditLog)
        .values(
          auditedChange({ actor: auditActor.reconciler, action: 'robots.create', target: robot.robotId }),
        );
      return true;
    });
  }

  /** Robots per status and type (the `rpa_robots` gauge, read when metrics are scraped). */
  async countByStatusAndType(): Promise<{ status: string; type: string; count: number }[]> {
    return this.readDb
      .select({ status: robots.status, type: robots.robotType, count: sql<number>`count(*)::int` })
      .from(robots)
      .groupBy(robots.status, robots.robotType);
  }

  /** Unfinished robots at risk of missing or past their deadline, per type and SLA state (a gauge). */
  async countSlaAtRisk(): Promise<{ state: string; type: string; count: number }[]> {
    const rows = await this.readDb
      .select({ state: robots.slaState, type: robots.robotType, count: sql<number>`count(*)::int` })
      .from(robots)
      .where(
        and(
          inArray(robots.slaState, ['at_risk', 'missed']),
          notInArray(robots.status, [...TERMINAL_STATUSES]),
        ),
      )
      .groupBy(robots.slaState, robots.robotType);
    return rows.map((row) => ({ state: row.state ?? 'unknown', type: row.type, count: row.count }));
  }

  /** Robots not yet finished, newest first: what cache warming loads. */
  async listActive(limit: number): Promise<RobotRow[]> {
    return this.readDb
      .select()
      .from(robots)
      .where(notInArray(robots.status, [...TERMINAL_STATUSES]))
      .orderBy(desc(robots.createdAt))
      .limit(limit);
  }

  /** Unfinished robots untouched since `before` (reconciliation; from the primary, not a replica). */
  async listStale(before: Date, limit: number): Promise<RobotRow[]> {
    return this.db
      .select()
      .from(robots)
      .where(and(notInArray(robots.status, [...TERMINAL_STATUSES]), lt(robots.updatedAt, before)))
      .limit(limit);
  }

  /** Which of these robot ids have a row (reconciliation; from the primary). */
  async existingIds(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .select({ robotId: robots.robotId })
      .from(robots)
      .where(inArray(robots.robotId, ids));
    return rows.map((row) => row.robotId);
  }

  /** How many robots a bulk action matches (from the primary: the set it then reads). */
  async countMatching(match: RobotMatch): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(robots)
      .where(matching(match));
    return row?.count ?? 0;
  }

  /** One keyset page of the ids a bulk action matches, newest first (the listing's order and index). */
  async pageMatching(
    match: RobotMatch,
    after: { at: Date; id: string } | undefined,
    limit: number,
  ): Promise<{ robotId: string; createdAt: Date }[]> {
    const older = after
      ? or(lt(robots.createdAt, after.at), and(eq(robots.createdAt, after.at), lt(robots.robotId, after.id)))
      : undefined;
    return this.db
      .select({ robotId: robots.robotId, createdAt: robots.createdAt })
      .from(robots)
      .where(and(matching(match), older))
      .orderBy(desc(robots.createdAt), desc(robots.robotId))
      .limit(limit);
  }

  /** An operator's new priority on a robot still open; null when it has finished (or has no row). */
  async setPriority(robotId: string, priority: RobotPriority): Promise<RobotRow | null> {
    const [updated] = await this.db
      .update(robots)
      .set({ priority, updatedAt: new Date() })
      .where(and(eq(robots.robotId, robotId), notInArray(robots.status, [...TERMINAL_STATUSES])))
      .returning();
    return updated ?? null;
  }

  async list(query: RobotListQuery): Promise<RobotRow[]> {
    const filters: SQL[] = [];
    if (query.status) filters.push(eq(robots.status, query.status));
    if (query.statuses) filters.push(inArray(robots.status, query.statuses));
    if (query.type) filters.push(eq(robots.robotType, query.type));
    if (query.after) {
      const { at, id } = query.after;
      const older = or(lt(robots.createdAt, at), and(eq(robots.createdAt, at), lt(robots.robotId, id)));
      if (older) filters.push(older);
    }
    return this.readDb
      .select()
      .from(robots)
      .where(filters.length > 0 ? and(...filters) : undefined)
      .orderBy(desc(robots.createdAt), desc(robots.robotId))
      .limit(query.limit);
  }

  /**
   * Applies a workflow's progress. Idempotent, so an activity retry writes the same values again.
   * A robot's row normally exists (the API or email intake made it before starting the workflow):
   * one update. A workflow started outside the API gets its row here, audited as the workflow's in
   * the same transaction; the upsert tells a row it inserted (xmax = 0) from one that appeared
   * meanwhile (the reconciler's), so each row has exactly one audit row.
   */
  /**
   * A live robot's progress written behind its workflow (activities/progress-write-behind.ts): only
   * while the row is not finished, so a late write can never hide a robot's final state. Null when
   * nothing was written (the row is finished, or missing: the run's first record makes it).
   */
  async applyLiveProgress(progress: RobotProgress, update: RobotUpdate): Promise<RobotRow | null> {
    const [updated] = await this.db
      .update(robots)
      .set({
        status: update.status,
        moduleName: update.moduleName,
        updatedAt: new Date(),
        ...(update.retryCount !== undefined ? { retryCount: update.retryCount } : {}),
        ...(progress.sla ? { slaState: progress.sla.state, priority: progress.priority } : {}),
      })
      .where(and(eq(robots.robotId, progress.robotId), notInArray(robots.status, [...TERMINAL_STATUSES])))
      .returning();
    return updated ?? null;
  }

  async applyProgress(
    progress: RobotProgress,
    input: Record<string, unknown>,
    update: RobotUpdate,
  ): Promise<RobotRow> {
    const set = {
      status: update.status,
      moduleName: update.moduleName,
      updatedAt: new Date(),
      ...(update.outputData !== undefined ? { outputData: update.outputData } : {}),
      ...(update.errorMessage !== undefined ? { errorMessage: update.errorMessage } : {}),
      ...(update.processingTimeMs !== undefined ? { processingTimeMs: update.processingTimeMs } : {}),
      ...(update.completenessScore !== undefined ? { completenessScore: update.completenessScore } : {}),
      ...(update.retryCount !== undefined ? { retryCount: update.retryCount } : {}),
      // A robot with a deadline: its SLA state, and the priority its risk point may have raised.
      ...(progress.sla ? { slaState: progress.sla.state, priority: progress.priority } : {}),
    };
    const [updated] = await this.db
      .update(robots)
      .set(set)
      .where(eq(robots.robotId, progress.robotId))
      .returning();
    if (updated) return updated;
    return this.db.transaction(async (tx) => {
      const [written] = await tx
        .insert(robots)
        .values({
          robotId: progress.robotId,
          robotType: progress.robotType,
          priority: progress.priority,
          inputData: input,
          ...set,
        })
        .onConflictDoUpdate({ target: robots.robotId, set })
        .returning({ ...getTableColumns(robots), inserted: sql<boolean>`(xmax = 0)` });
      if (!written) throw new Error(`robot ${progress.robotId} was not written`);
      const { inserted, ...row } = written;
      if (inserted) {
        await tx
          .insert(auditLog)
          .values(
            auditedChange({ actor: auditActor.workflow, action: 'robots.create', target: progress.robotId }),
          );
      }
      return row;
    });
  }
}

/** The SLA stored on a robot's row; null for a robot without a deadline. */
export function slaOf(row: RobotRow): RobotSla | null {
  if (!row.deadline || !row.slaRiskAt || !row.slaState) return null;
  return { deadline: row.deadline.toISOString(), riskAt: row.slaRiskAt.toISOString(), state: row.slaState };
}
