import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Config } from '../core/config';
import { initialMailboxState, MAILBOX_MONITOR_WORKFLOW } from '../core/domain/mailbox-workflow.contract';
import { mailboxWorkflowId } from '../core/domain/mailboxes';
import type { Logger } from '../core/observability/logger';

/**
 * Starts the monitor workflow of every configured mailbox (id mailbox-<name>) that is not running;
 * a running one is left alone, with its checkpoint. Called by the control worker at startup.
 */
export async function ensureMailboxMonitors(
  client: Client,
  config: Pick<Config, 'MAILBOXES' | 'CONTROL_TASK_QUEUE'>,
  logger: Logger,
): Promise<string[]> {
  const started: string[] = [];
  for (const mailbox of config.MAILBOXES) {
    const workflowId = mailboxWorkflowId(mailbox.name);
    try {
      await client.workflow.start(MAILBOX_MONITOR_WORKFLOW, {
        workflowId,
        taskQueue: config.CONTROL_TASK_QUEUE,
        args: [
          initialMailboxState(mailbox.name, {
            expectedHeartbeatMs: mailbox.expectedHeartbeat,
            pollIntervalMs: mailbox.pollInterval,
            failuresBeforeAlert: mailbox.failuresBeforeAlert,
          }),
        ],
      });
      started.push(workflowId);
      logger.info({ mailbox: mailbox.name, workflowId }, 'mailbox monitor started');
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return started;
}
