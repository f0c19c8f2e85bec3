import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities/types';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import { nominalTimeOfWorkflowId, type ScheduledRobotArgs } from '../core/domain/robot-schedule';
import { ScheduledStartTimeKey } from '../core/domain/search-attributes';

// One firing of a robot schedule (a Temporal Schedule's action, docs/schedules.md): make the robot,
// then, unless the schedule allows all overlaps, stay open until the robot finishes, so the
// schedule's overlap policy (skip, buffer one) is about robots, not about this short workflow.

const { createScheduledRobot } = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  // Postgres or Temporal away: keep trying for a while; a refusal on the merits is non-retryable.
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 20 },
});

const { scheduledRobotFinished } = proxyActivities<ControlActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute' },
});

/** Checks of the robot per run before continue-as-new keeps the history short. */
const POLLS_PER_RUN = 500;

/** 1 s, 2 s, 4 s … then every 30 s: a short robot frees the schedule soon, a long one costs little. */
const pollDelayMs = (poll: number) => Math.min(30_000, 1000 * 2 ** Math.min(poll, 5));

/** The firing's nominal time: Temporal's search attribute, else the suffix Temporal gives the id. */
function nominalTime(): string {
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(ScheduledStartTimeKey);
  const time = scheduled ? scheduled.toISOString() : nominalTimeOfWorkflowId(info.workflowId);
  if (!time) {
    throw ApplicationFailure.nonRetryable(
      'scheduledRobotWorkflow runs only as a robot schedule action (no scheduled start time)',
      FAILURE_TYPES.notScheduled,
    );
  }
  return time;
}

export async function scheduledRobotWorkflow(
  args: ScheduledRobotArgs,
): Promise<{ robotId: string; nominalTime: string; created: boolean }> {
  let waiting = args.waiting;
  let created = false;
  if (!waiting) {
    const time = nominalTime();
    const made = await createScheduledRobot({
      scheduleId: args.scheduleId,
      temporalScheduleId: args.temporalScheduleId,
      definition: args.definition,
      nominalTime: time,
    });
    created = made.created;
    waiting = { robotId: made.robotId, nominalTime: time };
  }
  if (args.definition.overlap !== 'allowAll') {
    for (let poll = 0; !(await scheduledRobotFinished(waiting.robotId)); poll++) {
      if (poll >= POLLS_PER_RUN) return continueAsNew<typeof scheduledRobotWorkflow>({ ...args, waiting });
      await sleep(pollDelayMs(poll));
    }
  }
  return { ...waiting, created };
}
