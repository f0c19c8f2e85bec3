// The throughput bench's baseline: a bare Temporal workflow that runs a pipeline's steps as the same
// `noop` activity the modules run (activities/basic-steps.ts), on a plain activity worker's queue,
// with the step activities' timeouts and retries of the robot workflow (workflows/robot/robot.workflow.ts)
// and nothing else: no module selection, no progress records, no search attributes.
import { proxyActivities } from '@temporalio/workflow';
import type { createBasicStepActivities } from '../activities/basic-steps';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import type { StepOutput } from '../core/domain/step-activity.contract';

export const BASELINE_WORKFLOW = 'baselineWorkflow';

export interface BaselineInput {
  robotId: string;
  definition: RobotTypeDefinition;
  input: Record<string, unknown>;
  /** The plain activity worker's task queue. */
  activityTaskQueue: string;
}

type StepActivities = ReturnType<typeof createBasicStepActivities>;

export async function baselineWorkflow(args: BaselineInput): Promise<Record<string, StepOutput>> {
  const outputs: Record<string, StepOutput> = {};
  for (const step of args.definition.steps) {
    const { noop } = proxyActivities<StepActivities>({
      taskQueue: args.activityTaskQueue,
      scheduleToStartTimeout: '30 seconds',
      heartbeatTimeout: `${Math.min(30, step.timeoutSeconds)} seconds`,
      startToCloseTimeout: `${step.timeoutSeconds} seconds`,
      retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 3 },
    });
    outputs[step.name] = await noop({ robotId: args.robotId, step, input: args.input, previous: outputs });
  }
  return outputs;
}
