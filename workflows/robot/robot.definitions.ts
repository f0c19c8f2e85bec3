import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RobotProgress, RobotStatus } from '../../core/robot';

export {
  DEFAULT_STEP_POLICY,
  ROBOT_WORKFLOW,
  type RobotWorkflowInput,
  type RobotWorkflowResult,
  type StepPolicy,
} from '../../core/robot-workflow';

export const progressQuery = defineQuery<RobotProgress>('progress');

/** What a control update answers once the workflow accepted it; the status changes as the robot acts. */
export interface ControlAnswer {
  status: RobotStatus;
  /** What the robot does next, in words: shown to the operator. */
  effect: string;
}

/** A reviewer's verdict on an approval step. */
export interface ApprovalDecision {
  /** Corrected fields, merged into the robot's data on approval. */
  fields?: Record<string, unknown>;
  comment?: string;
}

// Updates rather than signals: their validators refuse an action that does not fit the robot's
// state, and the caller learns it synchronously (the API answers 409) instead of being ignored.
export const pauseUpdate = defineUpdate<ControlAnswer>('pause');
export const resumeUpdate = defineUpdate<ControlAnswer>('resume');
export const approveUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('reject');

/** The validators' failure type: the API maps it to 409. */
export const STATE_CONFLICT = 'RobotStateConflict';
