import type { ScheduleDescription } from '@temporalio/client';
import { scheduledRobotId } from '../core/adapters/crypto/scheduled-robot-id';
import { NotFoundError } from '../core/domain/errors';
import {
  nominalTimeOfWorkflowId,
  type RobotScheduleDefinition,
  SCHEDULE_ERROR_NOTE_PREFIX,
  type ScheduledRobotArgs,
} from '../core/domain/robot-schedule';

// What the API shows of a robot schedule, read from Temporal's description of it: the definition
// is the action's argument, the rest is the schedule's state and info.

export interface ScheduleRunView {
  nominalTime: string | null;
  startedAt: string;
  workflowId: string;
  /** The robot this firing makes (derived from the schedule and the nominal time). */
  robotId: string | null;
}

export type ScheduleView = RobotScheduleDefinition & {
  id: string;
  temporalScheduleId: string;
  paused: boolean;
  note: string | null;
  /** Why the orchestrator paused the schedule (a firing's robot was refused), until it is resumed. */
  lastError: string | null;
  recentRuns: ScheduleRunView[];
  /** Firings whose robot is still running (overlap skip / bufferOne count these). */
  runningRuns: number;
  nextRunTimes: string[];
  createdAt: string;
  updatedAt: string | null;
  /** The schedule on the Temporal Web UI's Schedules page. */
  links: { temporalUi: string };
};

/** The definition the schedule's action carries; a schedule without one is not a robot schedule. */
export function definitionOf(id: string, description: ScheduleDescription): RobotScheduleDefinition {
  const { action } = description;
  const args =
    action.type === 'startWorkflow' ? (action.args?.[0] as ScheduledRobotArgs | undefined) : undefined;
  if (!args?.definition) throw new NotFoundError(`schedule ${id} not found`);
  return args.definition;
}

export function scheduleView(
  id: string,
  temporalId: string,
  description: ScheduleDescription,
  temporalUi: string,
): ScheduleView {
  const definition = definitionOf(id, description);
  const { state, info } = description;
  const note = state.note ?? null;
  return {
    id,
    temporalScheduleId: temporalId,
    ...definition,
    paused: state.paused,
    note,
    lastError:
      state.paused && note?.startsWith(SCHEDULE_ERROR_NOTE_PREFIX)
        ? note.slice(SCHEDULE_ERROR_NOTE_PREFIX.length)
        : null,
    recentRuns: info.recentActions.map((run) => {
      const workflowId = run.action.workflow.workflowId;
      const nominalTime = nominalTimeOfWorkflowId(workflowId) ?? null;
      return {
        nominalTime,
        startedAt: run.takenAt.toISOString(),
        workflowId,
        robotId: nominalTime ? scheduledRobotId(temporalId, nominalTime) : null,
      };
    }),
    runningRuns: info.runningActions.length,
    nextRunTimes: state.paused ? [] : info.nextActionTimes.map((time) => time.toISOString()),
    createdAt: info.createdAt.toISOString(),
    updatedAt: info.lastUpdatedAt?.toISOString() ?? null,
    links: { temporalUi },
  };
}
