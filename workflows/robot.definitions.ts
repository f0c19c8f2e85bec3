import { defineQuery } from '@temporalio/workflow';
import type { RobotPriority, RobotProgress } from '../core/robot';
import type { RobotTypeDefinition } from '../core/robot-types';

export const ROBOT_WORKFLOW = 'robotWorkflow';

export interface RobotWorkflowInput {
  robotId: string;
  /** Snapshot of the robot type at start: later changes to the type never affect this run. */
  definition: RobotTypeDefinition;
  input: Record<string, unknown>;
  priority: RobotPriority;
  /** How long to wait before asking again when no module is eligible. */
  moduleWaitSeconds: number;
}

export interface RobotWorkflowResult {
  robotId: string;
  status: 'completed';
  moduleName: string;
  output: Record<string, unknown>;
  processingTimeMs: number;
}

export const progressQuery = defineQuery<RobotProgress>('progress');
