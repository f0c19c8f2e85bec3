import type { WorkflowExecutionDescription } from '@temporalio/client';
import { RobotStatusKey } from '../../core/domain/search-attributes';
import { eventually, type TestSystem } from './test-system';

/**
 * The workflow's description once its RobotStatus search attribute says `status`. The robots row is
 * written by a local activity inside the workflow task, before the task's upsert reaches the server:
 * for a moment the row can be ahead of the search attribute.
 */
export function describeWhenStatus(
  system: TestSystem,
  robotId: string,
  status: string,
): Promise<WorkflowExecutionDescription> {
  return eventually(async () => {
    const description = await system.temporal.workflow.getHandle(robotId).describe();
    return description.typedSearchAttributes.get(RobotStatusKey) === status ? description : undefined;
  }, 10_000);
}
