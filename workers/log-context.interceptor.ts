import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import { ROBOT_WORKFLOW } from '../core/domain/robot-workflow.contract';
import { withLogContext } from '../core/observability/log-context';

/** Every log line an activity writes carries its workflow id, run id and (for robots) robot id. */
export const logContextInterceptor: ActivityInboundCallsInterceptor = {
  execute(input, next) {
    const { workflowExecution, workflowType, activityType } = Context.current().info;
    // Standalone activities (no workflow) have nothing to add.
    if (!workflowExecution) return next(input);
    return withLogContext(
      {
        workflowId: workflowExecution.workflowId,
        runId: workflowExecution.runId,
        activity: activityType,
        // A robot's workflow id is its robot id.
        ...(workflowType === ROBOT_WORKFLOW ? { robotId: workflowExecution.workflowId } : {}),
      },
      () => next(input),
    );
  },
};
