import type { StatusCache } from '../core/adapters/redis/status-cache';
import { completenessFromOutput } from '../core/domain/completeness';
import type { CircuitState } from '../core/domain/load-balancer';
import type { NotificationEvent } from '../core/domain/notification-events';
import { INITIAL_PERFORMANCE, recordOutcome } from '../core/domain/performance';
import type { ExecutionState, RobotProgress, RobotStatus } from '../core/domain/robot';
import type { RobotEvents } from '../core/domain/robot-events';
import type { Logger } from '../core/observability/logger';
import { robotDuration, robotSla, robotsFinished, stepDuration } from '../core/observability/metrics';
import type { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleStores } from '../db/module-stores';
import type { RobotsRepository } from '../db/robots.repository';
import { toRobotView } from '../db/views/robot.view';
import { ProgressWriteBehind } from './progress-write-behind';

export interface ProgressDeps {
  robots: RobotsRepository;
  executions: ExecutionsRepository;
  cache: StatusCache;
  moduleStores: ModuleStores;
  events: RobotEvents;
  ewmaAlpha: number;
  logger: Logger;
  /** Whether anyone subscribed to this robot event; the workflow schedules a notification only then. */
  hasSubscribers?: (event: NotificationEvent, robotType: string) => Promise<boolean>;
  /**
   * Writes a live robot's plain progress behind its workflow (ADR 0046). Off: every record is written
   * before the activity returns, as before.
   */
  writeBehind?: boolean;
}

/** How a step went on a module: feeds its circuit breaker and performance averages. */
export interface StepOutcome {
  moduleName: string;
  ok: boolean;
  latencyMs: number;
}

export interface ProgressRecord {
  executionId: string;
  progress: RobotProgress;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** null clears an earlier error (a parked robot that was resumed). */
  error?: string | null;
  processingTimeMs?: number;
  stepOutcome?: StepOutcome;
  /** The robot's SLA changed state (progress.sla): notify that instead of the status. */
  slaEvent?: 'at_risk' | 'missed';
}

const executionStateOf: Record<RobotStatus, ExecutionState> = {
  queued: 'started',
  pending: 'started',
  running: 'running',
  paused: 'running',
  parked: 'running',
  awaiting_approval: 'running',
  escalated: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The statuses people are told about (docs/api.md, webhook notifications). */
const ROBOT_EVENTS: Partial<Record<RobotStatus, NotificationEvent>> = {
  completed: 'robot.completed',
  failed: 'robot.failed',
  cancelled: 'robot.cancelled',
  parked: 'robot.parked',
  awaiting_approval: 'robot.awaiting_approval',
};

const SLA_EVENTS: Record<NonNullable<ProgressRecord['slaEvent']>, NotificationEvent> = {
  at_risk: 'robot.sla_at_risk',
  missed: 'robot.sla_missed',
};

/**
 * A record the workflow need not wait for: a running robot's step went well. Not its first record
 * (that one makes the row when the robot was started outside the API), nor one that ends, parks,
 * notifies or reports a failed step (its circuit answer decides a failover).
 */
function canWriteBehind(record: ProgressRecord): boolean {
  const { progress } = record;
  return (
    progress.status === 'running' &&
    (progress.sequence ?? 0) > 1 &&
    record.output === undefined &&
    record.error === undefined &&
    record.processingTimeMs === undefined &&
    record.slaEvent === undefined &&
    record.stepOutcome?.ok !== false
  );
}

export function createProgressActivities({
  robots,
  executions,
  cache,
  moduleStores,
  events,
  ewmaAlpha,
  logger,
  hasSubscribers,
  writeBehind = false,
}: ProgressDeps) {
  /** Best effort: with Redis down a robot keeps running; its step outcome is simply not counted. */
  const applyOutcome = async (outcome: StepOutcome): Promise<CircuitState | null> => {
    try {
      const stats = (await moduleStores.performance.get(outcome.moduleName)) ?? INITIAL_PERFORMANCE;
      await moduleStores.performance.set(outcome.moduleName, recordOutcome(stats, outcome, ewmaAlpha));
      return await moduleStores.circuits.record(outcome.moduleName, outcome.ok);
    } catch (err) {
      logger.warn({ err, module: outcome.moduleName }, 'step outcome not counted: module state unavailable');
      return null;
    }
  };

  /** Set-if-newer by the record's run and sequence: a late write never replaces a newer status (ADR 0053). */
  const cacheView = (view: ReturnType<typeof toRobotView>, record: ProgressRecord) =>
    Promise.all([
      cache.set(view, { run: record.executionId, sequence: record.progress.sequence ?? 0 }),
      events.publish(view),
    ]).catch((err: unknown) => {
      logger.warn(
        { err, robotId: view.robotId },
        'status cache or event publish failed; readers fall back to Postgres',
      );
    });

  /** A live robot's record, behind its workflow: never over a finished row or a newer record. */
  const writeLive = async (record: ProgressRecord & { sequence: number; robotId: string }) => {
    const { progress } = record;
    const row = await robots.applyLiveProgress(progress, {
      status: progress.status,
      moduleName: progress.moduleName,
      retryCount: progress.retryCount,
    });
    if (!row) return; // finished meanwhile: the final record is the last word
    await Promise.all([
      executions.upsert({ executionId: record.executionId, state: 'running', progress, finished: false }),
      cacheView(toRobotView(row, progress), record),
    ]);
  };
  const behind = new ProgressWriteBehind(writeLive, logger);

  return {
    /**
     * Writes a robot's progress to Postgres (robots + robot_execute) and the cache, and applies a
     * step's outcome to its module's performance and circuit.
     * Idempotent: a retry writes the same values again. The cache is best effort: a Redis outage
     * must not stall robots, and readers fall back to Postgres.
     * With `writeBehind`, a running robot's plain record is queued and written after the activity
     * returns (ADR 0046); every other record waits for what is queued for the robot, then is written.
     */
    async recordProgress(
      record: ProgressRecord,
    ): Promise<{ circuit: CircuitState | null; notify?: NotificationEvent }> {
      const { progress } = record;
      if (writeBehind && canWriteBehind(record)) {
        if (record.stepOutcome) {
          const { moduleName, ok, latencyMs } = record.stepOutcome;
          stepDuration.observe({ module: moduleName, outcome: ok ? 'ok' : 'failed' }, latencyMs / 1000);
          void applyOutcome(record.stepOutcome);
        }
        const sequence = progress.sequence ?? 0;
        behind.submit({ ...record, robotId: progress.robotId, sequence });
        return { circuit: null };
      }
      if (writeBehind) await behind.settle(progress.robotId);
      const state = executionStateOf[progress.status];
      const finished = state === 'completed' || state === 'failed' || state === 'cancelled';
      const completenessScore = completenessFromOutput(record.output);
      const row = await robots.applyProgress(progress, record.input, {
        status: progress.status,
        moduleName: progress.moduleName,
        ...(record.output !== undefined ? { outputData: record.output } : {}),
        ...(record.error !== undefined ? { errorMessage: record.error } : {}),
        ...(record.processingTimeMs !== undefined ? { processingTimeMs: record.processingTimeMs } : {}),
        retryCount: progress.retryCount,
        ...(completenessScore !== undefined ? { completenessScore } : {}),
      });
      if (finished) {
        robotsFinished.inc({ type: progress.robotType, status: progress.status });
        if (record.processingTimeMs !== undefined) {
          robotDuration.observe(
            { type: progress.robotType, status: progress.status },
            record.processingTimeMs / 1000,
          );
        }
      }
      if (record.slaEvent === 'missed') robotSla.inc({ type: progress.robotType, outcome: 'missed' });
      if (progress.status === 'completed' && progress.sla?.state === 'met')
        robotSla.inc({ type: progress.robotType, outcome: 'met' });
      if (record.stepOutcome) {
        const { moduleName, ok, latencyMs } = record.stepOutcome;
        stepDuration.observe({ module: moduleName, outcome: ok ? 'ok' : 'failed' }, latencyMs / 1000);
      }
      // The robots row exists now (robot_execute references it); the rest is independent.
      const cached = cacheView(toRobotView(row, progress), record);
      // A retry applies the outcome twice: that nudges an average, it never loses or invents a step.
      const [, , circuit] = await Promise.all([
        executions.upsert({
          executionId: record.executionId,
          state,
          progress,
          finished,
          // A retry of a failed robot continues from these (stored with the final record).
          ...(record.output !== undefined ? { outputs: record.output } : {}),
        }),
        cached,
        record.stepOutcome ? applyOutcome(record.stepOutcome) : null,
      ]);
      const event = record.slaEvent ? SLA_EVENTS[record.slaEvent] : ROBOT_EVENTS[progress.status];
      const notify =
        event && hasSubscribers
          ? await hasSubscribers(event, progress.robotType).catch((err: unknown) => {
              logger.warn({ err }, 'subscriptions unavailable: this event is not notified');
              return false;
            })
          : false;
      return { circuit, ...(notify && event ? { notify: event } : {}) };
    },
  };
}
