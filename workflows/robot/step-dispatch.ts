import { ActivityFailure, ApplicationFailure, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { StepInput, StepOutput } from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import type { StepDefinition } from '../../core/domain/robot-types';
import type { StepPolicy } from '../../core/domain/robot-workflow.contract';
import { moduleTaskQueue } from '../../core/domain/task-queues';

// How the robot workflow dispatches a step to a module and reads the ways a step can fail.

/** Every module step, built-in or custom, is one activity named by its kind (docs/modules.md). */
export type ModuleActivities = Record<string, (input: StepInput) => Promise<StepOutput>>;

export function stepActivities(
  moduleName: string,
  step: StepDefinition,
  policy: StepPolicy,
  /** A raised priority (a robot past its SLA risk point); without it the run's own priority applies. */
  priorityKey?: number,
): ModuleActivities {
  return proxyActivities<ModuleActivities>({
    ...(priorityKey !== undefined ? { priority: { priorityKey } } : {}),
    taskQueue: moduleTaskQueue(moduleName),
    // Not picked up in time = the module is dead, drained or overloaded: fail over (not retried here).
    scheduleToStartTimeout: `${policy.pickupTimeoutSeconds} seconds`,
    heartbeatTimeout: `${Math.min(policy.heartbeatTimeoutSeconds, step.timeoutSeconds)} seconds`,
    startToCloseTimeout: `${step.timeoutSeconds} seconds`,
    // A type's own policy (robot types as data); the same default as before when it has none.
    retry: step.retry
      ? {
          initialInterval: `${step.retry.initialIntervalSeconds} seconds`,
          maximumInterval: `${step.retry.maximumIntervalSeconds} seconds`,
          backoffCoefficient: step.retry.backoffCoefficient,
          maximumAttempts: step.retry.maximumAttempts,
        }
      : { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 3 },
  });
}

/** A step that returned without the fields its type requires fails the robot (it is not retried). */
export function checkRequiredOutputs(step: StepDefinition, output: Record<string, unknown>): void {
  const missing = (step.requiredOutputs ?? []).filter((field) => output[field] === undefined);
  if (missing.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `step ${step.name} returned without required output field(s): ${missing.join(', ')}`,
      FAILURE_TYPES.missingStepOutput,
    );
  }
}

export function errorMessage(err: unknown): string {
  // Activity failures wrap the real reason in `cause`.
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(err);
}

/** A module that never picked the step up: no replica polls its queue. */
export function notPickedUp(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'SCHEDULE_TO_START'
  );
}

/**
 * The step's worker went silent on its last attempt (killed, paused, cut off by the network): the
 * heartbeat timed out. An outage of the replicas that ran it, not the step's verdict.
 */
export function workerLost(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === 'HEARTBEAT'
  );
}

/** The step's own verdict on its input (non-retryable): no module would do better. */
export function businessFailure(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.nonRetryable === true
  );
}
