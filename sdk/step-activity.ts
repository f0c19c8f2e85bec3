import { ApplicationFailure, Context } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import type { Logger } from '../core/observability/logger';
import type { ModuleStep } from './define-step';
import { PermanentError } from './errors';
import { type StepOutcome, timeStep } from './metrics';
import { type AttemptRuntime, executeStep } from './run-step';

// A defined step as the Temporal activity named by its kind: Temporal's context feeds the attempt
// (heartbeats, cancellation, attempt number), and the outcome is mapped onto what the workflow
// reads: a non-retryable ApplicationFailure for the step's verdict, anything else retried.

/** The attempt ran longer than the step's own `timeout`: retried, like any transient error. */
export const STEP_TIMEOUT_FAILURE = 'StepTimeout';

/** Heartbeats carry Temporal's cancellation to the step; the SDK throttles what it actually sends. */
const HEARTBEAT_EVERY_MS = 5000;

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (a test of the function)
  }
}

/** What the workflow should read from an error of `run` or of the checks around it. */
export function toFailure(err: unknown): { error: unknown; outcome: StepOutcome } {
  if (err instanceof PermanentError) {
    return {
      error: ApplicationFailure.create({
        message: err.message,
        type: err.type,
        nonRetryable: true,
        details: err.details ? [err.details] : [],
      }),
      outcome: 'permanent',
    };
  }
  if (err instanceof TemporalFailure) {
    const nonRetryable = err instanceof ApplicationFailure && err.nonRetryable === true;
    const outcome = err.name === 'CancelledFailure' ? 'cancelled' : nonRetryable ? 'permanent' : 'failed';
    return { error: err, outcome };
  }
  return { error: err, outcome: 'failed' };
}

export function stepActivity(
  step: ModuleStep,
  deps: { moduleName: string; logger: Logger },
): (input: StepInput) => Promise<StepOutput> {
  return async (input) => {
    const context = activityContext();
    const controller = new AbortController();
    const timers: NodeJS.Timeout[] = [];
    const racers: Promise<never>[] = [];
    let details: unknown = context?.info.heartbeatDetails;
    if (context) {
      // A cancelled step (robot cancelled, worker past its grace) stops waiting even if `run` ignores its signal.
      context.cancellationSignal.addEventListener(
        'abort',
        () => controller.abort(context.cancellationSignal.reason),
        {
          once: true,
        },
      );
      racers.push(context.cancelled);
      const every = Math.min(
        HEARTBEAT_EVERY_MS,
        Math.max(200, (context.info.heartbeatTimeoutMs ?? 0) / 3 || HEARTBEAT_EVERY_MS),
      );
      timers.push(setInterval(() => context.heartbeat(details), every));
    }
    if (step.timeoutMs !== undefined) {
      const timeoutMs = step.timeoutMs;
      racers.push(
        new Promise<never>((_, reject) => {
          timers.push(
            setTimeout(() => {
              const failure = ApplicationFailure.retryable(
                `step ${input.step.name} (${step.kind}) ran past its timeout of ${timeoutMs / 1000}s on this module`,
                STEP_TIMEOUT_FAILURE,
              );
              controller.abort(failure);
              reject(failure);
            }, timeoutMs),
          );
        }),
      );
    }
    const runtime: AttemptRuntime = {
      attempt: context?.info.attempt ?? 1,
      heartbeat(next) {
        details = next;
        context?.heartbeat(next);
      },
      heartbeatDetails: details,
      signal: controller.signal,
      log: deps.logger.child({
        module: deps.moduleName,
        kind: step.kind,
        robotId: input.robotId,
        step: input.step.name,
        attempt: context?.info.attempt ?? 1,
      }),
    };
    const finish = timeStep(deps.moduleName, step.kind);
    try {
      const output = await Promise.race([executeStep(step, input, runtime), ...racers]);
      finish('ok');
      return output;
    } catch (err) {
      const { error, outcome } = toFailure(err);
      finish(outcome);
      throw error;
    } finally {
      for (const timer of timers) clearTimeout(timer);
    }
  };
}
