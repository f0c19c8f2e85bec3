import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { RobotPriority, RobotProgress } from '../../core/domain/robot';
import type { ApprovalDecision, ControlAnswer } from '../../core/domain/robot-workflow.contract';

// The robot workflow's query and update handles; its contract (input, result, what the updates
// carry) is core/domain/robot-workflow.contract.ts.

export const progressQuery = defineQuery<RobotProgress>('progress');

// Updates rather than signals: their validators refuse an action that does not fit the robot's
// state, and the caller learns it synchronously (the API answers 409) instead of being ignored.
export const pauseUpdate = defineUpdate<ControlAnswer>('pause');
export const resumeUpdate = defineUpdate<ControlAnswer>('resume');
export const approveUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ControlAnswer, [ApprovalDecision]>('reject');
export const reprioritizeUpdate = defineUpdate<ControlAnswer, [RobotPriority]>('reprioritize');
