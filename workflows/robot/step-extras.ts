import { patched, workflowInfo } from '@temporalio/workflow';
import { type ApprovalWhen, applyCorrections, approvalNeeded } from '../../core/domain/approval-condition';
import type { StepDefinition } from '../../core/domain/robot-types';
// On the control queue, where the notifier and its delivery rows are (as for robot events).
import { notifications } from './robot-notifications';

// Conditional approvals, reviewers' corrections and the notify step: workflow-side step behaviour
// kept out of the step loop. Deterministic: the inputs are outputs already in history.

/**
 * `when` and `corrects` of approval steps. A type registered before them could carry such params
 * (params were free-form) and was run without them: its histories replay without the marker.
 */
export const APPROVAL_WHEN_PATCH = 'approval-when-v1';

type Outputs = Record<string, Record<string, unknown>>;

/** Why the approval step need not wait (its `when` does not hold), or null when it waits. */
export function approvalNotNeeded(step: StepDefinition, outputs: Outputs): string | null {
  if (step.params.when === undefined || !patched(APPROVAL_WHEN_PATCH)) return null;
  const need = approvalNeeded(step.params.when as ApprovalWhen, outputs);
  return need.wait ? null : need.reason;
}

/** Applies the reviewer's fields to the output named by `params.corrects`, for the steps after it. */
export function applyReviewCorrections(
  step: StepDefinition,
  fields: Record<string, unknown> | undefined,
  outputs: Outputs,
): void {
  const target = step.params.corrects;
  if (typeof target !== 'string' || !fields || !patched(APPROVAL_WHEN_PATCH)) return;
  const output = outputs[target];
  if (output) outputs[target] = applyCorrections(output, fields);
}

/**
 * A notify step: the robot's subscribers of `robot.notified` get the templated message. A kind
 * that did not exist before, so no earlier history holds one and no patch is needed.
 */
export function runNotifyStep(
  robotId: string,
  robotType: string,
  step: StepDefinition,
  data: Record<string, unknown>,
  outputs: Outputs,
): Promise<Record<string, unknown>> {
  return notifications.notifyStep({
    robotId,
    robotType,
    eventKey: `${robotId}:${workflowInfo().runId}:${step.name}`,
    step,
    input: data,
    previous: outputs,
  });
}
