import type { Logger } from '../core/logger';
import type { ExecutionState, RobotProgress, RobotStatus } from '../core/robot';
import type { StatusCache } from '../core/status-cache';
import type { ExecutionsRepository } from '../db/executions.repository';
import { type RobotsRepository, toRobotView } from '../db/robots.repository';

export interface ProgressDeps {
  robots: RobotsRepository;
  executions: ExecutionsRepository;
  cache: StatusCache;
  logger: Logger;
}

export interface ProgressRecord {
  executionId: string;
  progress: RobotProgress;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: string;
  processingTimeMs?: number;
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

export function createProgressActivities({ robots, executions, cache, logger }: ProgressDeps) {
  return {
    /**
     * Writes a robot's progress to Postgres (robots + robot_execute) and then to the cache.
     * Idempotent: a retry writes the same values again. The cache is best effort: a Redis outage
     * must not stall robots, and readers fall back to Postgres.
     */
    async recordProgress(record: ProgressRecord): Promise<void> {
      const { progress } = record;
      const state = executionStateOf[progress.status];
      const finished = state === 'completed' || state === 'failed' || state === 'cancelled';
      const row = await robots.applyProgress(progress, record.input, {
        status: progress.status,
        moduleName: progress.moduleName,
        ...(record.output !== undefined ? { outputData: record.output } : {}),
        ...(record.error !== undefined ? { errorMessage: record.error } : {}),
        ...(record.processingTimeMs !== undefined ? { processingTimeMs: record.processingTimeMs } : {}),
      });
      await executions.upsert({ executionId: record.executionId, state, progress, finished });
      try {
        await cache.set(toRobotView(row, progress));
      } catch (err) {
        logger.warn(
          { err, robotId: progress.robotId },
          'status cache write failed; readers fall back to Postgres',
        );
      }
    },
  };
}
