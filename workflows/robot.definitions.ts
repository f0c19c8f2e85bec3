import { defineQuery } from '@temporalio/workflow';
import type { RobotProgress } from '../core/robot';

export {
  DEFAULT_STEP_POLICY,
  ROBOT_WORKFLOW,
  type RobotWorkflowInput,
  type RobotWorkflowResult,
  type StepPolicy,
} from '../core/robot-workflow';

export const progressQuery = defineQuery<RobotProgress>('progress');
