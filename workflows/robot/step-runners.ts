import { ApplicationFailure, sleep } from '@temporalio/workflow';
import type { StepOutcome } from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import type { StepDefinition } from '../../core/domain/robot-types';
import { DEFAULT_APPROVAL_WAITS } from '../../core/domain/robot-workflow.contract';
import { awaited, type Flow } from './flow';
import { runOnModule } from './module-step';
import { completeStep, type RobotRun, type RunningStep } from './robot-run';
import { applyReviewCorrections, approvalNotNeeded, runNotifyStep } from './step-extras';

// One runner per step kind. Each leaves the step's output in run.outputs and completes the step.

/** Runs one step; its result is the outcome of a last module step, which goes with the completion record. */
export function runStep(
  run: RobotRun,
  step: StepDefinition,
  state: RunningStep,
  last: boolean,
): Flow<StepOutcome | undefined> {
  switch (step.kind) {
    case 'delay':
      return runDelay(run, step, state);
    case 'notify':
      return runNotify(run, step, state);
    case 'approval':
      return runApproval(run, step, state);
    default:
      return runOnModule(run, step, state, last);
  }
}

function* runDelay(run: RobotRun, step: StepDefinition, state: RunningStep): Flow<undefined> {
  const ms = Number(step.params.ms ?? 1000);
  yield* awaited(sleep(ms));
  run.outputs[step.name] = { waitedMs: ms };
  yield* completeStep(run, state);
}

function* runNotify(run: RobotRun, step: StepDefinition, state: RunningStep): Flow<undefined> {
  const { args, data, outputs } = run;
  outputs[step.name] = yield* awaited(runNotifyStep(args.robotId, args.definition.name, step, data, outputs));
  yield* completeStep(run, state);
}

/** Waits for a person's verdict, unless the step's `when` does not hold; the corrected fields join the data. */
function* runApproval(run: RobotRun, step: StepDefinition, state: RunningStep): Flow<undefined> {
  const { controls, data, outputs } = run;
  const notNeeded = approvalNotNeeded(step, outputs);
  if (notNeeded !== null) {
    // Its `when` does not hold: nobody needs to look, the robot goes on.
    outputs[step.name] = { reviewed: false, reason: notNeeded };
    state.status = 'completed';
    state.completedAt = state.startedAt;
    state.durationMs = 0;
    return;
  }
  if (!controls)
    throw ApplicationFailure.nonRetryable('approval steps need a newer worker', FAILURE_TYPES.unsupported);
  const waits = run.args.approval ?? DEFAULT_APPROVAL_WAITS;
  const verdict = yield* awaited(controls.awaitApproval(step, state, data, outputs, waits));
  if (verdict.fields) Object.assign(data, verdict.fields);
  applyReviewCorrections(step, verdict.fields, outputs);
  run.sla?.reviewed();
  outputs[step.name] = {
    approved: true,
    escalated: verdict.escalated,
    ...(verdict.fields ? { fields: verdict.fields } : {}),
    ...(verdict.comment !== undefined ? { comment: verdict.comment } : {}),
  };
  yield* completeStep(run, state);
}
