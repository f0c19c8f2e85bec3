import { completenessFromOutput } from '../core/completeness';
import type { CircuitState } from '../core/load-balancer';
import type { Logger } from '../core/logger';
import { robotDuration, robotsFinished, stepDuration } from '../core/metrics';
import { INITIAL_PERFORMANCE, recordOutcome } from '../core/performance';
import type { ExecutionState, RobotProgress, RobotStatus } from '../core/robot';
import type { RobotEvents } from '../core/robot-events';
import type { StatusCache } from '../core/status-cache';
import type { ExecutionsRepository } from '../db/executions.repository';
import type { ModuleServices } from '../db/module-services';
import { type RobotsRepository, toRobotView } from '../db/robots.repository';

export interface ProgressDeps {
  robots: RobotsRepository;
  executions: ExecutionsRepository;
  cache: StatusCache;
  services: ModuleServices;
  events: RobotEvents;
  ewmaAlpha: number;
  logger: Logger;
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
  error?: string;
  processingTimeMs?: number;
  stepOutcome?: StepOutcome;
}

const executionStateOf: Record<RobotStatus, ExecutionState> = {
  queued: 'started',
  pending: 'started',
  running: 'running',
  paused: 'running',
  parked: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function createProgressActivities({
  robots,
  executions,
  cache,
  services,
  events,
  ewmaAlpha,
  logger,
}: ProgressDeps) {
  /** Best effort: with Redis down a robot keeps running; its step outcome is simply not counted. */
  const applyOutcome = async (outcome: StepOutcome): Promise<CircuitState | null> => {
    try {
      const stats = (await services.performance.get(outcome.moduleName)) ?? INITIAL_PERFORMANCE;
      await services.performance.set(outcome.moduleName, recordOutcome(stats, outcome, ewmaAlpha));
      return await services.circuits.record(outcome.moduleName, outcome.ok);
    } catch (err) {
      logger.warn({ err, module: outcome.moduleName }, 'step outcome not counted: module state unavailable');
      return null;
    }
  };

  return {
    /**
     * Writes a robot's progress to Postgres (robots + robot_execute) and the cache, and applies a
     * step's outcome to its module's performance and circuit.
     * Idempotent: a retry writes the same values again. The cache is best effort: a Redis outage
     * must not stall robots, and readers fall back to Postgres.
     */
    async recordProgress(record: ProgressRecord): Promise<{ circuit: CircuitState | null }> {
      const { progress } = record;
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
      if (record.stepOutcome) {
        const { moduleName, ok, latencyMs } = record.stepOutcome;
        stepDuration.observe({ module: moduleName, outcome: ok ? 'ok' : 'failed' }, latencyMs / 1000);
      }
      // The robots row exists now (robot_execute references it); the rest is independent.
      const view = toRobotView(row, progress);
      const cached = Promise.all([cache.set(view), events.publish(view)]).catch((err: unknown) => {
        logger.warn(
          { err, robotId: progress.robotId },
          'status cache or event publish failed; readers fall back to Postgres',
        );
      });
      // A retry applies the outcome twice: that nudges an average, it never loses or invents a step.
      const [, , circuit] = await Promise.all([
        executions.upsert({ executionId: record.executionId, state, progress, finished }),
        cached,
        record.stepOutcome ? applyOutcome(record.stepOutcome) : null,
      ]);
      return { circuit };
    },
  };
}
