import type { RobotProgress, RobotView } from '../../core/domain/robot';
import { slaOf } from '../robots.repository';
import type { RobotRow } from '../schema';

/**
 * A robot as the API shows it, the status cache holds it and its event stream carries it: its row,
 * and the run's progress when there is one, its routing decisions lifted to the top.
 */
export function toRobotView(row: RobotRow, fullProgress: RobotProgress | null): RobotView {
  const { routing = [], ...progress } = fullProgress ?? { routing: [] };
  return {
    robotId: row.robotId,
    type: row.robotType,
    typeVersion: row.robotTypeVersion,
    status: row.status,
    priority: row.priority,
    moduleName: row.moduleName,
    input: row.inputData,
    output: row.outputData ?? null,
    progress: fullProgress ? (progress as Omit<RobotProgress, 'routing'>) : null,
    routing,
    error: row.errorMessage,
    processingTimeMs: row.processingTimeMs,
    retryCount: row.retryCount,
    completenessScore: row.completenessScore,
    sla: slaOf(row),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
