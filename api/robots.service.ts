import { createHash, randomUUID } from 'node:crypto';
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import { startSurelyRefused } from '../core/adapters/temporal/start-refused';
import type { Config } from '../core/config';
import { auditActor } from '../core/domain/audit-actor';
import {
  ConflictError,
  NotFoundError,
  RobotInputError,
  UnavailableError,
  ValidationError,
} from '../core/domain/errors';
import { ROBOT_PRIORITIES, type RobotProgress, type RobotStatus, type RobotView } from '../core/domain/robot';
import { checkRobotInput } from '../core/domain/robot-input';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import {
  ROBOT_WORKFLOW,
  type RobotArgsConfig,
  type RobotWorkflowInput,
  robotStartOptions,
  robotWorkflowArgs,
} from '../core/domain/robot-workflow.contract';
import { RobotPriorityKey, RobotStatusKey, RobotTypeKey } from '../core/domain/search-attributes';
import { planSla, type RobotSla } from '../core/domain/sla';
import { stableStringify } from '../core/domain/stable-json';
import { readStepDetails } from '../core/domain/step-details';
import type { Logger } from '../core/observability/logger';
import { auditedChange, type NewAuditRow } from '../db/audit.repository';
import type { DatabaseGuard } from '../db/database-guard';
import type { ExecutionsRepository } from '../db/executions.repository';
import { type IdempotencyScope, type NewRobot, type RobotsRepository, slaOf } from '../db/robots.repository';
import type { RobotExecuteRow, RobotRow } from '../db/schema';
import { toRobotView } from '../db/views/robot.view';
import { cursorAfter, keysetPage } from './cursor';
import type { CreateRobotBody, ListRobotsQuery } from './schemas';

export type RobotSource = 'cache' | 'database' | 'temporal';

/** An API request's side of a create: its audit row is written with the robot row. */
export interface CreateRequest {
  ip: string | null;
  requestId: string | null;
  /** MAX_RUNNING_ROBOTS_PER_KEY: checked in the insert's own statement (ConcurrencyLimitError). */
  maxUnfinished: number;
}

/** The creating key already has `limit` unfinished robots (429 concurrency-limit, ADR 0013). */
export class ConcurrencyLimitError extends Error {
  constructor(
    readonly limit: number,
    readonly running: number,
  ) {
    super(`This API key already has ${running} unfinished robots (limit ${limit}); retry when some finish.`);
  }
}

export interface RobotsServiceDeps {
  config: Pick<
    Config,
    'CONTROL_TASK_QUEUE' | 'TEMPORAL_RPC_TIMEOUT_MS' | 'SLA_RISK_SHARE' | 'IDEMPOTENCY_KEY_TTL_HOURS'
  > &
    RobotArgsConfig;
  temporal: Client;
  robots: RobotsRepository;
  executions: ExecutionsRepository;
  cache: StatusCache;
  guard: DatabaseGuard;
  logger: Logger;
  /** Built-in and registered robot types: the version a new robot runs with. */
  robotTypes: { current(name: string): Promise<RobotTypeDefinition | undefined> };
}

function progressFromExecution(row: RobotRow, execution: RobotExecuteRow | null): RobotProgress | null {
  if (!execution) return null;
  const details = readStepDetails(execution.stepDetails);
  const { steps } = details;
  const stepsCompleted = steps.filter((step) => step.status === 'completed').length;
  return {
    robotId: row.robotId,
    robotType: row.robotType,
    status: row.status,
    priority: row.priority,
    moduleName: execution.moduleName,
    currentStep: execution.currentStep,
    stepsCompleted,
    stepsTotal: steps.length,
    percent: Math.round((stepsCompleted / Math.max(1, steps.length)) * 100),
    steps,
    retryCount: row.retryCount,
    routing: details.routing,
    ...(details.reason ? { reason: details.reason } : {}),
    ...(details.sequence !== null ? { sequence: details.sequence } : {}),
    ...(details.approval ? { approval: details.approval } : {}),
    ...(details.pauseRequested ? { pauseRequested: true } : {}),
  };
}

export class RobotsService {
  constructor(private readonly deps: RobotsServiceDeps) {}

  /**
   * Creates a robot: a `robots` row, then its workflow (id = robot id). With an Idempotency-Key a
   * repeat returns the first robot and (re)starts its workflow if the first attempt died in between
   * or its start's outcome was unknown (503), so a key never yields two robots or two workflows. A
   * key belongs to the API key that used it (`createdByKeyId`) and, for API keys, expires
   * IDEMPOTENCY_KEY_TTL_HOURS after its first use (ADR 0029). `robotId`: a caller-derived id (email
   * intake derives it from the Message-ID); give it with an idempotency key so a repeat finds the
   * first row. `actor`: who makes a robot outside the API (email intake), whose request the audit
   * trail does not see: the new row is audited with it, in the same transaction (ADR 0033).
   * `request`: an API request's; its audit row (as it reads when the answer is 201) and the
   * running-robots cap go into the insert's one statement, so the create makes one database round
   * trip before the workflow start (ADR 0042).
   */
  async create(
    body: CreateRobotBody,
    idempotencyKey: string | undefined,
    createdByKeyId: string | null = null,
    robotId: string = randomUUID(),
    actor?: string,
    request?: CreateRequest,
  ): Promise<{ robot: RobotView; created: boolean }> {
    const definition = await this.deps.robotTypes.current(body.type);
    if (!definition) {
      throw new ValidationError(`unknown robot type "${body.type}"`, {
        errors: [{ field: 'body.type', message: `unknown robot type "${body.type}"` }],
      });
    }
    const requestHash = createHash('sha256').update(stableStringify(body)).digest('hex');
    const { robots, guard } = this.deps;
    const scope = idempotencyKey ? { key: idempotencyKey, apiKeyId: createdByKeyId } : null;
    // Keys made without an API key (email intake: derived from the message) never expire.
    const maxAgeHours = createdByKeyId === null ? null : this.deps.config.IDEMPOTENCY_KEY_TTL_HOURS;
    // At the door: input the type's steps cannot take makes no row, no workflow, no robot to fail later.
    // A repeat of a request that made its robot before the type's schema changed still gets that robot.
    const inputErrors = checkRobotInput(definition.inputSchema, body.input);
    const [firstError] = inputErrors;
    const repeat =
      firstError && scope ? await guard.run(() => robots.findByIdempotencyKey(scope, maxAgeHours)) : null;
    if (firstError && repeat?.requestHash !== requestHash) {
      throw new RobotInputError(
        `the input does not match the inputSchema of robot type ${definition.name}: ` +
          `${firstError.path || '/'} ${firstError.message}`,
        { errors: inputErrors },
      );
    }
    const plan = planSla(new Date(), body, definition.sla, this.deps.config.SLA_RISK_SHARE);
    if ('problem' in plan) {
      const { field, message } = plan.problem;
      throw new ValidationError(`${field}: ${message}`, { errors: [{ field, message }] });
    }
    const { inserted, row } = await this.insertOrFindRepeat(
      {
        robotId,
        robotType: definition.name,
        robotTypeVersion: definition.version,
        priority: body.priority,
        inputData: body.input,
        idempotencyKey: idempotencyKey ?? null,
        requestHash,
        createdByKeyId,
        ...(plan.sla
          ? {
              deadline: new Date(plan.sla.deadline),
              slaRiskAt: new Date(plan.sla.riskAt),
              slaState: plan.sla.state,
            }
          : {}),
      },
      scope,
      maxAgeHours,
      (action) => this.auditOf(action, robotId, createdByKeyId, actor, request),
      request?.maxUnfinished,
    );
    // A new row this call removes again (its workflow cannot be this robot's) is audited as removed.
    const undo = async () => {
      const audit = this.auditOf('robots.delete', row.robotId, createdByKeyId, actor, request);
      await guard.run(() => robots.delete(row.robotId, audit)).catch(() => undefined);
    };
    if (!inserted && row.requestHash !== requestHash) {
      throw new ConflictError('this Idempotency-Key was used with a different request body', {
        robotId: row.robotId,
      });
    }

    let fresh = true;
    try {
      fresh = await this.startWorkflow(
        // From the row: a repeated Idempotency-Key keeps the first request's deadline.
        robotWorkflowArgs({
          config: this.deps.config,
          robotId: row.robotId,
          definition,
          input: body.input,
          priority: body.priority,
          sla: slaOf(row),
        }),
        row.createdAt,
      );
    } catch (err) {
      if (startSurelyRefused(err)) {
        // Temporal read the start and refused it: no workflow, so the new row goes too.
        if (inserted) await undo();
        this.deps.logger.error({ err, robotId: row.robotId }, 'robot workflow start refused');
        throw new UnavailableError(
          `the workflow engine refused the start${inserted ? '; the robot was not created' : ''}`,
        );
      }
      // Unknown outcome (a timeout, a lost reply): the workflow may run. The row stays, so a retry
      // with the same Idempotency-Key, or the reconciler, completes this robot (the id is the
      // workflow id) instead of making a second one (ADR 0026).
      this.deps.logger.warn({ err, robotId: row.robotId }, 'robot workflow start unconfirmed');
      throw new UnavailableError(
        `the workflow engine did not confirm the start of robot ${row.robotId}; the robot is kept ` +
          'and will run: retry with the same Idempotency-Key to get it, never without one',
        undefined,
        { robotId: row.robotId },
      );
    }
    if (inserted && !fresh && !(await this.startedForRow(row))) {
      // A new row whose id Temporal already ran (a caller-derived id, or a database restored
      // behind Temporal): that run is not this robot's, and a robot runs once.
      await undo();
      throw new ConflictError(`robot id ${row.robotId} was already used by an earlier run`, {
        robotId: row.robotId,
      });
    }
    return { robot: toRobotView(row, null), created: inserted !== null };
  }

  /**
   * Puts a robot just created into the status cache, for the first reads of its status: called
   * after the answer has gone, so the create does not wait for Redis. `fill` (SET NX) never
   * replaces what its workflow wrote meanwhile, and never throws.
   */
  remember(robot: RobotView): void {
    void this.deps.cache.fill(robot);
  }

  /**
   * The audit row of a change this create makes: an outside actor's (email intake), or an API
   * request's, which for `robots.create` reads as the request's row does when it answers 201 (the
   * audit trail then writes none; on any other answer it appends the request's own row). A removal
   * (`robots.delete`) is a change, not an answer: no HTTP status. Undefined: nothing to record here.
   */
  private auditOf(
    action: 'robots.create' | 'robots.delete',
    target: string,
    keyId: string | null,
    actor: string | undefined,
    request: CreateRequest | undefined,
  ): NewAuditRow | undefined {
    if (actor) return auditedChange({ actor, action, target });
    if (!request) return undefined;
    return {
      keyId,
      actor: keyId ? auditActor.apiKey(keyId) : auditActor.anonymous,
      action,
      target,
      ip: request.ip,
      requestId: request.requestId,
      outcome: 'success',
      status: action === 'robots.create' ? 201 : null,
    };
  }

  /**
   * The new row, or the robot an unexpired use of the same key in the same scope made. A key past
   * its age still holds the unique index until the cleanup workflow frees it: free it now and insert.
   */
  private async insertOrFindRepeat(
    robot: NewRobot,
    scope: IdempotencyScope | null,
    maxAgeHours: number | null,
    auditOf: (action: 'robots.create') => NewAuditRow | undefined,
    maxUnfinished: number | undefined,
  ): Promise<{ inserted: RobotRow | null; row: RobotRow }> {
    const { robots, guard } = this.deps;
    const audit = auditOf('robots.create');
    // Twice at most: a concurrent request may take the freed key first, and then it is a repeat.
    for (let attempt = 0; attempt < 2; attempt++) {
      const { row: inserted, unfinished } = await guard.run(() =>
        robots.insertAudited(robot, { audit, maxUnfinished }),
      );
      if (inserted) return { inserted, row: inserted };
      // Refused by the cap (a repeat too, as when the cap was checked before the insert).
      if (maxUnfinished !== undefined && unfinished !== null && unfinished >= maxUnfinished)
        throw new ConcurrencyLimitError(maxUnfinished, unfinished);
      if (!scope) break;
      const repeat = await guard.run(() => robots.findByIdempotencyKey(scope, maxAgeHours));
      if (repeat) return { inserted: null, row: repeat };
      if (maxAgeHours === null) break;
      await guard.run(() => robots.releaseIdempotencyKey(scope, maxAgeHours));
    }
    throw new Error('robot insert returned no row');
  }

  /**
   * Whether the run Temporal already has for a new row's id was started for this row: a concurrent
   * repeat of the same Idempotency-Key finds the row and may start its workflow before the request
   * that inserted it does. Every start names its row's creation time in the memo; a run without it,
   * or with another, belongs to an earlier robot of the same id. In doubt (Temporal unreachable) the
   * row is kept: deleting it could orphan a running robot.
   */
  private async startedForRow(row: RobotRow): Promise<boolean> {
    try {
      const run = await this.deps.temporal.workflow.getHandle(row.robotId).describe();
      return run.memo?.rowCreatedAt === row.createdAt.toISOString();
    } catch {
      return true;
    }
  }

  /** False when a run of this robot id already exists (started before, or finished). */
  private async startWorkflow(args: RobotWorkflowInput, rowCreatedAt: Date): Promise<boolean> {
    // A bounded call: when Temporal is away the client answers 503 in seconds instead of hanging.
    const deadline = Date.now() + this.deps.config.TEMPORAL_RPC_TIMEOUT_MS;
    try {
      await this.deps.temporal.withDeadline(deadline, () =>
        this.deps.temporal.workflow.start(
          ROBOT_WORKFLOW,
          robotStartOptions(args, this.deps.config.CONTROL_TASK_QUEUE, rowCreatedAt),
        ),
      );
      return true;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
      throw err;
    }
  }

  /** Redis, then Postgres, then Temporal: the first that knows the robot answers. */
  async get(robotId: string): Promise<{ robot: RobotView; source: RobotSource }> {
    // Never throws: an unreachable Redis reads as a miss (counted in rpa_cache_requests_total).
    const cached = await this.deps.cache.get(robotId);
    if (cached) return { robot: cached, source: 'cache' };

    let row: RobotRow | null;
    let execution: RobotExecuteRow | null = null;
    try {
      row = await this.deps.guard.run(() => this.deps.robots.findById(robotId));
      if (row) execution = await this.deps.guard.run(() => this.deps.executions.latestForRobot(robotId));
    } catch (err) {
      // Postgres is away and the cache did not have it: Temporal still knows every robot.
      if (!(err instanceof UnavailableError)) throw err;
      return { robot: await this.fromTemporal(robotId, err), source: 'temporal' };
    }
    if (row) {
      const robot = toRobotView(row, progressFromExecution(row, execution));
      await this.deps.cache.fill(robot);
      return { robot, source: 'database' };
    }

    return { robot: await this.fromTemporal(robotId), source: 'temporal' };
  }

  /**
   * Loads up to `limit` unfinished robots into the status cache (only where nothing is cached, so
   * a worker's newer write is never replaced). Returns how many entries it stored.
   */
  async warmCache(limit: number): Promise<number> {
    if (limit === 0) return 0;
    const rows = await this.deps.robots.listActive(limit);
    let stored = 0;
    // A few at a time: warming must not take the pool from requests arriving meanwhile.
    for (let i = 0; i < rows.length; i += 8) {
      const batch = rows.slice(i, i + 8);
      const filled = await Promise.all(
        batch.map(async (row) => {
          const execution = await this.deps.executions.latestForRobot(row.robotId);
          return this.deps.cache.fill(toRobotView(row, progressFromExecution(row, execution)));
        }),
      );
      stored += filled.filter(Boolean).length;
    }
    return stored;
  }

  /** `unavailable`: the database error to report if Temporal does not know the robot either. */
  private async fromTemporal(robotId: string, unavailable?: UnavailableError): Promise<RobotView> {
    try {
      const deadline = Date.now() + this.deps.config.TEMPORAL_RPC_TIMEOUT_MS;
      const description = await this.deps.temporal.withDeadline(deadline, () =>
        this.deps.temporal.workflow.getHandle(robotId).describe(),
      );
      const attributes = description.typedSearchAttributes;
      const memo = (description.memo ?? {}) as { robotTypeVersion?: number; sla?: RobotSla };
      const priority = attributes.get(RobotPriorityKey);
      const startedAt = description.startTime.toISOString();
      return {
        robotId,
        type: attributes.get(RobotTypeKey) ?? 'unknown',
        typeVersion: memo.robotTypeVersion ?? 1,
        status: (attributes.get(RobotStatusKey) as RobotStatus | undefined) ?? 'queued',
        priority: ROBOT_PRIORITIES.find((value) => value === priority) ?? 'normal',
        moduleName: null,
        input: {},
        output: null,
        progress: null,
        routing: [],
        error: null,
        processingTimeMs: null,
        retryCount: 0,
        completenessScore: null,
        // The memo holds the SLA as planned and as last changed by the workflow.
        sla: memo.sla ?? null,
        createdAt: startedAt,
        updatedAt: startedAt,
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw unavailable ?? new NotFoundError(`robot ${robotId} not found`);
      throw err;
    }
  }

  async list(query: ListRobotsQuery): Promise<{ items: RobotView[]; nextCursor: string | null }> {
    const rows = await this.deps.guard.run(() =>
      this.deps.robots.list({
        status: query.status,
        type: query.type,
        limit: query.limit + 1,
        after: cursorAfter(query.cursor),
      }),
    );
    const { page, nextCursor } = keysetPage(rows, query.limit, (row) => ({
      at: row.createdAt,
      id: row.robotId,
    }));
    return { items: page.map((row) => toRobotView(row, null)), nextCursor };
  }
}
