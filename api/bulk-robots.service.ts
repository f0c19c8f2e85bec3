import { createHash, randomUUID } from 'node:crypto';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowExecutionDescription,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { Config } from '../core/config';
import {
  BULK_ROBOTS_WORKFLOW,
  type BulkAction,
  type BulkFilter,
  type BulkOperationInput,
  type BulkProgress,
} from '../core/domain/bulk-operation.contract';
import {
  ConflictError,
  isDomainError,
  NotFoundError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../core/domain/errors';
import { stableStringify } from '../core/domain/stable-json';
import type { Logger } from '../core/observability/logger';
import type { DatabaseGuard } from '../db/database-guard';
import { bulkProgressQuery } from '../workflows/bulk-robots.definitions';
import { type BulkRobotMatcher, checkVisibilityQuery } from './bulk-robots.matcher';
import type { BulkBody } from './bulk-robots.schemas';

// Bulk actions on robots (ADR 0049): the request is checked and counted here, then a durable
// bulkRobotsWorkflow on the control queue does the work and holds the progress.

const SAMPLE_SIZE = 20;

export interface BulkRobotsDeps {
  config: Pick<
    Config,
    'CONTROL_TASK_QUEUE' | 'BULK_MAX_ROBOTS' | 'BULK_BATCH_SIZE' | 'TEMPORAL_RPC_TIMEOUT_MS'
  >;
  temporal: Client;
  matcher: BulkRobotMatcher;
  guard: Pick<DatabaseGuard, 'run'>;
  logger: Logger;
}

export interface BulkCaller {
  keyId: string | null;
  actor: string;
  idempotencyKey?: string | undefined;
}

export interface BulkDryRun {
  dryRun: true;
  action: BulkAction;
  matched: number;
  limit: number;
  /** Some of the matching robots' ids (newest first without a query). */
  sample: string[];
  filter: BulkFilter;
}

/** What GET answers: the workflow's progress and when it ran. */
export interface BulkOperationView extends BulkProgress {
  filter: BulkFilter;
  startedAt: string | null;
  closedAt: string | null;
  links: { self: string };
}

export type BulkStartAnswer =
  | { kind: 'dry-run'; body: BulkDryRun }
  | { kind: 'started' | 'repeat'; body: BulkOperationView };

interface BulkMemo {
  action?: BulkAction;
  requestHash?: string;
  filter?: BulkFilter;
}

export class BulkRobotsService {
  constructor(private readonly deps: BulkRobotsDeps) {}

  /** A call to Temporal, bounded; its failure (not the caller's) is a 503 with a retry hint. */
  private async withDeadline<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.deps.temporal.withDeadline(
        Date.now() + this.deps.config.TEMPORAL_RPC_TIMEOUT_MS,
        call,
      );
    } catch (err) {
      if (
        isDomainError(err) ||
        err instanceof WorkflowNotFoundError ||
        err instanceof WorkflowExecutionAlreadyStartedError
      )
        throw err;
      this.deps.logger.error({ err }, 'bulk operation call to Temporal failed');
      throw new UnavailableError('the workflow engine is unavailable; retry later');
    }
  }

  async start(action: BulkAction, body: BulkBody, caller: BulkCaller): Promise<BulkStartAnswer> {
    if (action === 'reprioritize' && !body.priority)
      throw fieldError('body.priority', 'reprioritize needs a priority');
    if (action !== 'reprioritize' && body.priority)
      throw fieldError('body.priority', `only reprioritize takes a priority, not ${action}`);
    if (body.filter.query !== undefined) checkVisibilityQuery(body.filter.query);
    const requestHash = createHash('sha256')
      .update(stableStringify({ action, filter: body.filter, priority: body.priority ?? null }))
      .digest('hex');
    const operationId = caller.idempotencyKey
      ? operationIdOf(caller.keyId, caller.idempotencyKey)
      : `bulk-${randomUUID().replaceAll('-', '')}`;
    if (caller.idempotencyKey && !body.dryRun) {
      const earlier = await this.existing(operationId, requestHash);
      if (earlier) return { kind: 'repeat', body: earlier };
    }

    // The set is fixed now: robots created after this request are never touched.
    const now = new Date().toISOString();
    const createdTo =
      body.filter.createdTo && Date.parse(body.filter.createdTo) < Date.parse(now)
        ? new Date(body.filter.createdTo).toISOString()
        : now;
    const filter: BulkFilter = {
      ...(body.filter.status ? { status: body.filter.status } : {}),
      ...(body.filter.type ? { type: body.filter.type } : {}),
      ...(body.filter.module ? { module: body.filter.module } : {}),
      ...(body.filter.createdFrom ? { createdFrom: new Date(body.filter.createdFrom).toISOString() } : {}),
      createdTo,
      ...(body.filter.query !== undefined ? { query: body.filter.query } : {}),
    };
    const limit = this.deps.config.BULK_MAX_ROBOTS;
    // Postgres matches (behind the API's circuit breaker) unless a query asks Temporal; a query
    // Temporal refuses comes back as a 400 (ValidationError) and passes through.
    const read = <T>(call: () => Promise<T>) =>
      filter.query !== undefined ? this.withDeadline(call) : this.deps.guard.run(call);
    const matched = await read(() => this.deps.matcher.count(filter));
    if (body.dryRun) {
      const sample = await read(() => this.deps.matcher.page({ filter, after: null, limit: SAMPLE_SIZE }));
      return {
        kind: 'dry-run',
        body: { dryRun: true, action, matched, limit, sample: sample.robotIds.slice(0, SAMPLE_SIZE), filter },
      };
    }
    if (matched > limit) {
      throw new UnprocessableError(
        `the filter matches ${matched} robots, more than BULK_MAX_ROBOTS=${limit}; narrow it (e.g. a created range)`,
        { matched, limit },
      );
    }

    const input: BulkOperationInput = {
      operationId,
      action,
      ...(body.priority ? { priority: body.priority } : {}),
      filter,
      actor: caller.actor,
      keyId: caller.keyId,
      batchSize: this.deps.config.BULK_BATCH_SIZE,
      maxRobots: limit,
      counted: matched,
    };
    const memo: BulkMemo = { action, requestHash, filter };
    try {
      await this.withDeadline(() =>
        this.deps.temporal.workflow.start(BULK_ROBOTS_WORKFLOW, {
          workflowId: operationId,
          taskQueue: this.deps.config.CONTROL_TASK_QUEUE,
          args: [input],
          // One operation per key, even after it has finished.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { ...memo, summary: `bulk ${action} of ${matched} robots` },
        }),
      );
    } catch (err) {
      // A concurrent repeat of the same key started it first: that operation is the answer.
      if (err instanceof WorkflowExecutionAlreadyStartedError && caller.idempotencyKey) {
        const earlier = await this.existing(operationId, requestHash);
        if (earlier) return { kind: 'repeat', body: earlier };
      }
      throw err;
    }
    this.deps.logger.info({ operationId, action, matched, filter }, 'bulk operation started');
    return {
      kind: 'started',
      body: {
        operationId,
        action,
        ...(body.priority ? { priority: body.priority } : {}),
        state: 'matching',
        matched,
        done: 0,
        skipped: 0,
        failed: 0,
        reasons: {},
        failures: [],
        filter,
        startedAt: now,
        closedAt: null,
        links: { self: `/v1/robots/bulk/${operationId}` },
      },
    };
  }

  /** The operation this key already started, or null; 409 when the key was used for another request. */
  private async existing(operationId: string, requestHash: string): Promise<BulkOperationView | null> {
    const description = await this.describe(operationId);
    if (!description) return null;
    const memo = (description.memo ?? {}) as BulkMemo;
    if (memo.requestHash !== requestHash) {
      throw new ConflictError('this Idempotency-Key was used with a different bulk request', { operationId });
    }
    return this.viewOf(operationId, description);
  }

  private async describe(operationId: string): Promise<WorkflowExecutionDescription | null> {
    try {
      const description = await this.withDeadline(() =>
        this.deps.temporal.workflow.getHandle(operationId).describe(),
      );
      return description.type === BULK_ROBOTS_WORKFLOW ? description : null;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  async get(operationId: string): Promise<BulkOperationView> {
    const description = await this.describe(operationId);
    if (!description) throw new NotFoundError(`no bulk operation ${operationId}`, { operationId });
    return this.viewOf(operationId, description);
  }

  private async viewOf(
    operationId: string,
    description: WorkflowExecutionDescription,
  ): Promise<BulkOperationView> {
    const handle = this.deps.temporal.workflow.getHandle(operationId);
    const memo = (description.memo ?? {}) as BulkMemo;
    const status = description.status.name;
    const progress: BulkProgress =
      status === 'COMPLETED'
        ? await this.withDeadline(() => handle.result())
        : status === 'RUNNING'
          ? await this.withDeadline(() => handle.query(bulkProgressQuery))
          : {
              // Terminated or failed by hand in Temporal: the counts went with it.
              operationId,
              action: memo.action ?? 'cancel',
              state: 'cancelled',
              matched: 0,
              done: 0,
              skipped: 0,
              failed: 0,
              reasons: { [`operation ${status.toLowerCase()} in Temporal`]: 1 },
              failures: [],
            };
    return {
      ...progress,
      filter: memo.filter ?? { createdTo: description.startTime.toISOString() },
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString() ?? null,
      links: { self: `/v1/robots/bulk/${operationId}` },
    };
  }

  /** Stops the operation after the batch it is acting on; 409 once it has finished. */
  async cancel(operationId: string): Promise<BulkOperationView> {
    const description = await this.describe(operationId);
    if (!description) throw new NotFoundError(`no bulk operation ${operationId}`, { operationId });
    const view = await this.viewOf(operationId, description);
    if (view.state === 'completed' || view.state === 'cancelled') {
      throw new ConflictError(`the bulk operation has finished (${view.state})`, { operationId });
    }
    await this.withDeadline(() => this.deps.temporal.workflow.getHandle(operationId).cancel());
    return view;
  }
}

/** The same key of the same API key is the same operation (ADR 0029's scope for keys). */
function operationIdOf(keyId: string | null, idempotencyKey: string): string {
  const digest = createHash('sha256')
    .update(`${keyId ?? 'anonymous'}\n${idempotencyKey}`)
    .digest('hex');
  return `bulk-${digest.slice(0, 32)}`;
}

function fieldError(field: string, message: string): ValidationError {
  return new ValidationError(`${field}: ${message}`, { errors: [{ field, message }] });
}
