import { randomBytes } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  type Client,
  isGrpcServiceError,
  type ScheduleDescription,
  type ScheduleHandle,
  ScheduleNotFoundError,
  type ScheduleOptionsStartWorkflowAction,
  ScheduleOverlapPolicy,
  ServiceError,
} from '@temporalio/client';
import { msNumberToTs, tsToMs } from '@temporalio/common/lib/time';
import type { Config } from '../core/config';
import { parseDuration } from '../core/domain/durations';
import {
  ConflictError,
  NotFoundError,
  UnavailableError,
  UnprocessableError,
  ValidationError,
} from '../core/domain/errors';
import { checkRobotInput } from '../core/domain/robot-input';
import {
  type OverlapPolicy,
  type RobotScheduleDefinition,
  robotScheduleDefinitionSchema,
  SCHEDULED_ROBOT_WORKFLOW,
  type ScheduledRobotArgs,
  scheduleIdOf,
  temporalScheduleId,
} from '../core/domain/robot-schedule';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import { temporalUiScheduleUrl } from '../core/domain/temporal-ui';
import type { CreateScheduleBody } from './schedule.schemas';
import { definitionOf, type ScheduleView, scheduleView } from './schedule.view';

export type { ScheduleRunView, ScheduleView } from './schedule.view';

import { toTemporalSpec } from './schedule-spec';

// Robot schedules (docs/schedules.md, ADR 0047): Temporal Schedules whose action starts
// scheduledRobotWorkflow on the control queue. Their whole state lives in Temporal: the definition
// is the action's argument, pause and its note are the schedule's state; nothing in Postgres.

const OVERLAP: Record<OverlapPolicy, ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  bufferOne: ScheduleOverlapPolicy.BUFFER_ONE,
  allowAll: ScheduleOverlapPolicy.ALLOW_ALL,
};

/** Runs one backfill may start at most: a wide range of a frequent schedule would flood the queue. */
export const MAX_BACKFILL_RUNS = 500;

export class SchedulesService {
  constructor(
    private readonly deps: {
      config: Pick<
        Config,
        'CONTROL_TASK_QUEUE' | 'TEMPORAL_NAMESPACE' | 'SCHEDULE_RPC_TIMEOUT_MS' | 'TEMPORAL_UI_URL'
      >;
      temporal: Client;
      /** The version a new robot of this type runs with; undefined when there is no such type. */
      robotTypes: { current(name: string): Promise<RobotTypeDefinition | undefined> };
    },
  ) {}

  private temporalId(id: string): string {
    return temporalScheduleId(this.deps.config.CONTROL_TASK_QUEUE, id);
  }

  private handle(id: string): ScheduleHandle {
    return this.deps.temporal.schedule.getHandle(this.temporalId(id));
  }

  async create(body: CreateScheduleBody): Promise<ScheduleView> {
    const { id: givenId, paused, note, ...definition } = body;
    await this.checkRobot(definition);
    const id = givenId ?? `s-${randomBytes(4).toString('hex')}`;
    await this.call(id, () =>
      this.deps.temporal.schedule.create({
        scheduleId: this.temporalId(id),
        ...this.temporalParts(id, definition),
        state: { paused, ...(note ? { note } : {}) },
        // Shown on the Schedules page of the Temporal Web UI.
        memo: { purpose: `rpa-orchestrator robot schedule ${id}`, scheduleId: id },
      }),
    );
    return this.get(id);
  }

  async list(): Promise<ScheduleView[]> {
    const ids: string[] = [];
    await this.call('*', async () => {
      for await (const summary of this.deps.temporal.schedule.list({ pageSize: 200 })) {
        const id = scheduleIdOf(this.deps.config.CONTROL_TASK_QUEUE, summary.scheduleId);
        if (id !== undefined) ids.push(id);
      }
    });
    const views = await Promise.all(
      ids.map((id) =>
        this.get(id).catch((err) => (err instanceof NotFoundError ? null : Promise.reject(err))),
      ),
    );
    return views
      .filter((view): view is ScheduleView => view !== null)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<ScheduleView> {
    const temporalId = this.temporalId(id);
    const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = this.deps.config;
    const link = temporalUiScheduleUrl(TEMPORAL_UI_URL, TEMPORAL_NAMESPACE, temporalId);
    return scheduleView(id, temporalId, await this.describe(id), link);
  }

  /** A partial change: given fields replace the current ones; a new cron/interval/calendar replaces the old. */
  async update(id: string, patch: Partial<RobotScheduleDefinition>): Promise<ScheduleView> {
    const current = definitionOf(id, await this.describe(id));
    const when = ['cron', 'interval', 'calendar'] as const;
    const base = { ...current };
    if (when.some((key) => patch[key] !== undefined)) for (const key of when) delete base[key];
    const parsed = robotScheduleDefinitionSchema.safeParse({ ...base, ...patch });
    if (!parsed.success) {
      const errors = parsed.error.issues.map((issue) => ({
        field: ['body', ...issue.path].join('.'),
        message: issue.message,
      }));
      throw new ValidationError(`${errors[0]?.field}: ${errors[0]?.message}`, { errors });
    }
    const definition = parsed.data;
    await this.checkRobot(definition);
    const parts = this.temporalParts(id, definition);
    await this.call(id, () =>
      this.handle(id).update((previous) => ({
        ...previous,
        spec: parts.spec,
        action: parts.action,
        policies: { ...previous.policies, ...parts.policies },
      })),
    );
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    await this.call(id, () => this.handle(id).delete());
  }

  async pause(id: string, note: string | undefined): Promise<ScheduleView> {
    await this.call(id, () => this.handle(id).pause(note ?? 'paused through the API'));
    return this.get(id);
  }

  /** Resuming replaces the note, so an error the orchestrator paused with is cleared. */
  async resume(id: string, note: string | undefined): Promise<ScheduleView> {
    await this.call(id, () => this.handle(id).unpause(note ?? 'resumed through the API'));
    return this.get(id);
  }

  /** One firing now, nominally at this second; `allowAll` by default, so it runs beside a running one. */
  async trigger(id: string, overlap: OverlapPolicy = 'allowAll'): Promise<void> {
    await this.call(id, () => this.handle(id).trigger(OVERLAP[overlap]));
  }

  /**
   * The firings the spec names in [start, end], all of them (`allowAll` by default): one robot per
   * nominal time. Robots already made for a time are found again, not made twice.
   */
  async backfill(
    id: string,
    range: { start: Date; end: Date; overlap?: OverlapPolicy },
    now = new Date(),
  ): Promise<{ runs: number }> {
    if (range.end <= range.start) {
      throw new ValidationError('body.end: must be after start', {
        errors: [{ field: 'body.end', message: 'must be after start' }],
      });
    }
    if (range.end > now) {
      throw new ValidationError('body.end: a backfill covers the past only', {
        errors: [{ field: 'body.end', message: 'a backfill covers the past only' }],
      });
    }
    // Temporal's matching times start after `start`, while a backfill fires at `start` too.
    const times = await this.matchingTimes(id, new Date(range.start.getTime() - 1000), range.end);
    if (times.length > MAX_BACKFILL_RUNS) {
      throw new UnprocessableError(
        `this range holds more than ${MAX_BACKFILL_RUNS} firings of the schedule; backfill a shorter range`,
        { runs: times.length, limit: MAX_BACKFILL_RUNS },
      );
    }
    await this.call(id, () =>
      this.handle(id).backfill([
        { start: range.start, end: range.end, overlap: OVERLAP[range.overlap ?? 'allowAll'] },
      ]),
    );
    return { runs: times.length };
  }

  /** The next `count` times the spec names (with jitter applied), whether or not the schedule is paused. */
  async next(id: string, count: number, now = new Date()): Promise<string[]> {
    const description = await this.describe(id);
    const definition = definitionOf(id, description);
    // Wide enough for most specs at once; widened for sparse ones, up to five years.
    let horizonMs = definition.interval
      ? (parseDuration(definition.interval.every) ?? 1000) * (count + 1)
      : 86_400_000;
    const limitMs = 5 * 366 * 86_400_000;
    for (;;) {
      const times = await this.matchingTimes(id, now, new Date(now.getTime() + horizonMs));
      if (times.length >= count || horizonMs >= limitMs) return times.slice(0, count);
      horizonMs = Math.min(limitMs, horizonMs * 8);
    }
  }

  private async matchingTimes(id: string, start: Date, end: Date): Promise<string[]> {
    const seconds = (date: Date) => msNumberToTs(Math.floor(date.getTime() / 1000) * 1000);
    const answer = await this.call(id, () =>
      this.deps.temporal.workflowService.listScheduleMatchingTimes({
        namespace: this.deps.config.TEMPORAL_NAMESPACE,
        scheduleId: this.temporalId(id),
        startTime: seconds(start),
        endTime: seconds(end),
      }),
    );
    return (answer.startTime ?? []).map((time) => new Date(tsToMs(time)).toISOString());
  }

  /** The robot type exists and takes the input: checked now, so a bad schedule is never made. */
  private async checkRobot(definition: RobotScheduleDefinition): Promise<void> {
    const type = await this.deps.robotTypes.current(definition.type);
    if (!type) {
      throw new ValidationError(`unknown robot type "${definition.type}"`, {
        errors: [{ field: 'body.type', message: `unknown robot type "${definition.type}"` }],
      });
    }
    const [first, ...rest] = checkRobotInput(type.inputSchema, definition.input);
    if (first) {
      throw new ValidationError(
        `the input does not match the inputSchema of robot type ${type.name}: ${first.path || '/'} ${first.message}`,
        { errors: [first, ...rest] },
      );
    }
  }

  private temporalParts(id: string, definition: RobotScheduleDefinition) {
    const args: ScheduledRobotArgs = { scheduleId: id, temporalScheduleId: this.temporalId(id), definition };
    const action: ScheduleOptionsStartWorkflowAction<(args: ScheduledRobotArgs) => Promise<unknown>> = {
      type: 'startWorkflow',
      workflowType: SCHEDULED_ROBOT_WORKFLOW,
      // Temporal appends each firing's nominal time to it.
      workflowId: this.temporalId(id),
      taskQueue: this.deps.config.CONTROL_TASK_QUEUE,
      args: [args],
      memo: { robotSchedule: id, robotType: definition.type },
    };
    return {
      spec: toTemporalSpec(definition),
      action,
      policies: {
        overlap: OVERLAP[definition.overlap],
        catchupWindow: parseDuration(definition.catchupWindow) ?? 300_000,
      },
    };
  }

  private async describe(id: string): Promise<ScheduleDescription> {
    return this.call(id, () => this.handle(id).describe());
  }

  /**
   * Temporal's answers in the API's words: unknown schedule 404, taken id 409, refused spec 400,
   * Temporal away 503. Bounded (SCHEDULE_RPC_TIMEOUT_MS): an unreachable Temporal is a 503, not a hang.
   */
  private async call<T>(id: string, work: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.deps.config.SCHEDULE_RPC_TIMEOUT_MS;
    try {
      return await this.deps.temporal.withDeadline(deadline, work);
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new NotFoundError(`schedule ${id} not found`);
      if (err instanceof Error && err.name === 'ScheduleAlreadyRunning') {
        throw new ConflictError(`schedule ${id} already exists`, { id });
      }
      // The client turns a spec the server refuses into a TypeError with the server's reason.
      if (err instanceof TypeError) {
        throw new ValidationError(`the schedule was refused: ${err.message}`);
      }
      const cause = err instanceof ServiceError ? err.cause : err;
      if (isGrpcServiceError(cause)) {
        if (cause.code === grpcStatus.INVALID_ARGUMENT) {
          throw new ValidationError(`the schedule was refused: ${cause.details || cause.message}`);
        }
        if (cause.code === grpcStatus.NOT_FOUND) throw new NotFoundError(`schedule ${id} not found`);
        if (cause.code === grpcStatus.UNAVAILABLE || cause.code === grpcStatus.DEADLINE_EXCEEDED) {
          throw new UnavailableError('the workflow engine (Temporal) did not answer; retry shortly');
        }
      }
      throw err;
    }
  }
}
