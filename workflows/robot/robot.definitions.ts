import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RobotProgress } from '../../core/robot';
import type { ApprovalDecision, ControlAnswer } from '../../core/robot-workflow';

// The robot workflow's query and update handles; its contract (input, result, what the updates
// carry) is core/robot-workflow.ts.

export const progressQuery = defineQuery<RobotProgress>('progress');

// Updates rather than signals: their validators refuse an action that does not fit the robot's
// state, and the caller learns it synchronously (the API answers 409) instead of being ignored.
export const pauseUpdate = defineUpdate<ControlAnswer>('pause');
export const resumeUpdate = defineUpdate<ControlAnswer>('resume');
export const approveUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('reject');
