import { ApplicationFailure } from '@temporalio/activity';
import { scheduledRobotId } from '../core/adapters/crypto/scheduled-robot-id';
import { auditActor } from '../core/domain/audit-actor';
import { ConflictError, ValidationError } from '../core/domain/errors';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import {
  type CreateScheduledRobotRequest,
  type CreateScheduledRobotResult,
  SCHEDULE_ERROR_NOTE_PREFIX,
} from '../core/domain/robot-schedule';
import type { Logger } from '../core/observability/logger';

// A schedule's firing makes its robot here, through the API's own create path (same checks, same
// audit row, actor `schedule:<id>`), under an id derived from the schedule and the nominal time:
// a retried activity or a replayed firing finds the robot it already made.

export interface ScheduledRobotDeps {
  /** RobotsService.create with the API's body schema; `created: false` when the id/key made it before. */
  robotIntake: {
    create(robot: {
      actor: string;
      robotId: string;
      idempotencyKey: string;
      body: { type: string; input: Record<string, unknown>; priority: string; sla?: string };
    }): Promise<{ created: boolean }>;
  };
  /** Pauses the Temporal schedule with a note (pausing a paused schedule changes only the note). */
  pauseSchedule(temporalScheduleId: string, note: string): Promise<void>;
  /** Whether the robot's workflow is no longer running (or was never started). */
  robotFinished(robotId: string): Promise<boolean>;
  logger: Logger;
}

export function createScheduledRobotActivities(deps: ScheduledRobotDeps) {
  const createScheduledRobot = async (
    request: CreateScheduledRobotRequest,
  ): Promise<CreateScheduledRobotResult> => {
    const { scheduleId, temporalScheduleId, definition, nominalTime } = request;
    const robotId = scheduledRobotId(temporalScheduleId, nominalTime);
    try {
      const { created } = await deps.robotIntake.create({
        actor: auditActor.schedule(scheduleId),
        robotId,
        idempotencyKey: `schedule:${robotId}`,
        body: {
          type: definition.type,
          input: definition.input,
          priority: definition.priority,
          ...(definition.sla ? { sla: definition.sla } : {}),
        },
      });
      return { robotId, created };
    } catch (err) {
      // The id was run before (its row since purged): that firing made its robot.
      if (err instanceof ConflictError) return { robotId, created: false };
      if (!(err instanceof ValidationError)) throw err;
      // Refused on its merits (the type is gone, the input no longer fits it): every later firing
      // would be refused too. Pause with the reason, once, instead of failing on every firing.
      const reason = `robot type "${definition.type}": ${err.message}`;
      await deps.pauseSchedule(
        temporalScheduleId,
        `${SCHEDULE_ERROR_NOTE_PREFIX}${reason} (firing of ${nominalTime}; fix the schedule, then resume it)`,
      );
      deps.logger.warn({ scheduleId, nominalTime, reason }, 'scheduled robot refused; schedule paused');
      throw ApplicationFailure.nonRetryable(reason, FAILURE_TYPES.scheduledRobotRefused);
    }
  };
  /** The firing lasts while its robot runs: the schedule's overlap policy is about robots. */
  const scheduledRobotFinished = (robotId: string): Promise<boolean> => deps.robotFinished(robotId);
  return { createScheduledRobot, scheduledRobotFinished };
}
