import { desc, eq, sql } from 'drizzle-orm';
import type { ExecutionState, RobotProgress } from '../core/domain/robot';
import { stepDetailsOf } from '../core/domain/step-details';
import type { Database } from './client';
import { type RobotExecuteRow, robotExecute } from './schema';

export interface ExecutionUpdate {
  executionId: string;
  state: ExecutionState;
  progress: RobotProgress;
  finished: boolean;
  /** Outputs of the completed steps, by step name. */
  outputs?: Record<string, unknown>;
}

export class ExecutionsRepository {
  // Read on every status-path cache miss: prepared once.
  private readonly latest;

  constructor(
    private readonly db: Database,
    readDb: Database = db,
  ) {
    this.latest = readDb
      .select()
      .from(robotExecute)
      .where(eq(robotExecute.robotId, sql.placeholder('robotId')))
      .orderBy(desc(robotExecute.startedAt))
      .limit(1)
      .prepare('latest_execution_of_robot');
  }

  /** One row per workflow run (execution id = Temporal run id); rewritten after every step. */
  async upsert(update: ExecutionUpdate): Promise<void> {
    const { progress } = update;
    const set = {
      moduleName: progress.moduleName,
      executionState: update.state,
      currentStep: progress.currentStep,
      // A retry of a failed robot continues from the outputs (stored with the final record).
      stepDetails: stepDetailsOf(progress, update.outputs),
      performanceMetrics: {
        stepsCompleted: progress.stepsCompleted,
        stepsTotal: progress.stepsTotal,
        retryCount: progress.retryCount,
        stepDurationsMs: Object.fromEntries(
          progress.steps.map((step) => [step.name, step.durationMs ?? null]),
        ),
      },
      completedAt: update.finished ? new Date() : null,
    };
    // A run's records carry its sequence: one written behind (ADR 0046) never replaces a newer one.
    const sequence = progress.sequence;
    await this.db
      .insert(robotExecute)
      .values({ executionId: update.executionId, robotId: progress.robotId, ...set })
      .onConflictDoUpdate({
        target: robotExecute.executionId,
        set,
        ...(sequence !== undefined
          ? {
              setWhere: sql`coalesce((${robotExecute.stepDetails}->>'sequence')::int, 0) <= ${sequence}`,
            }
          : {}),
      });
  }

  async latestForRobot(robotId: string): Promise<RobotExecuteRow | null> {
    const rows = await this.latest.execute({ robotId });
    return rows[0] ?? null;
  }

  /** Moves finished executions older than the retention to robot_execute_archive, in one statement. */
  async archiveFinished(retentionDays: number): Promise<number> {
    const result = await this.db.execute(sql`
      with moved as (
        delete from robot_execute
        where completed_at < now() - make_interval(days => ${retentionDays})
        returning *
      )
      insert into robot_execute_archive
        (execution_id, robot_id, module_name, execution_state, current_step, step_details,
         performance_metrics, started_at, completed_at)
      select execution_id, robot_id, module_name, execution_state, current_step, step_details,
             performance_metrics, started_at, completed_at
      from moved
      on conflict (execution_id) do nothing`);
    return (result as { rowCount?: number | null }).rowCount ?? 0;
  }
}
