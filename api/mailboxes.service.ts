import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Config } from '../core/config';
import type { MailboxMonitorState } from '../core/domain/mailbox-workflow.contract';
import { type MailboxConfig, mailboxWorkflowId } from '../core/domain/mailboxes';
import { mailboxStateQuery } from '../workflows/mailbox-monitor.definitions';

export interface MailboxMonitorView {
  workflowId: string;
  /** Temporal's status of the latest run: RUNNING normally; anything else means no monitoring. */
  status: string;
  checkpoint: MailboxMonitorState['checkpoint'];
  watchingSince: string | null;
  lastMessageAt: string | null;
  lastCheckAt: string | null;
  messagesReceived: number;
  consecutiveFailures: number;
  lastError: string | null;
  alerts: MailboxMonitorState['alerts'];
}

export interface MailboxView {
  name: string;
  host: string;
  port: number;
  secure: boolean;
  user: string;
  folder: string;
  robotType: string;
  processed: MailboxConfig['processed'];
  processedFolder: string;
  expectedHeartbeatSeconds: number;
  pollIntervalSeconds: number;
  failuresBeforeAlert: number;
  /** Null when no monitor was ever started, or Temporal did not answer (then `monitorError`). */
  monitor: MailboxMonitorView | null;
  monitorError?: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** GET /v1/mailboxes: the configured mailboxes (never their passwords) and their monitors' state. */
export class MailboxesService {
  constructor(
    private readonly deps: {
      config: Pick<Config, 'MAILBOXES' | 'TEMPORAL_RPC_TIMEOUT_MS'>;
      temporal: Client;
    },
  ) {}

  async list(): Promise<MailboxView[]> {
    return Promise.all(this.deps.config.MAILBOXES.map((mailbox) => this.view(mailbox)));
  }

  private async view(mailbox: MailboxConfig): Promise<MailboxView> {
    const base = {
      name: mailbox.name,
      host: mailbox.host,
      port: mailbox.port,
      secure: mailbox.secure,
      user: mailbox.user,
      folder: mailbox.folder,
      robotType: mailbox.robotType,
      processed: mailbox.processed,
      processedFolder: mailbox.processedFolder,
      expectedHeartbeatSeconds: mailbox.expectedHeartbeat / 1000,
      pollIntervalSeconds: mailbox.pollInterval / 1000,
      failuresBeforeAlert: mailbox.failuresBeforeAlert,
    };
    const workflowId = mailboxWorkflowId(mailbox.name);
    const { temporal } = this.deps;
    const deadline = Date.now() + this.deps.config.TEMPORAL_RPC_TIMEOUT_MS;
    try {
      const handle = temporal.workflow.getHandle(workflowId);
      const [description, state] = await temporal.withDeadline(deadline, () =>
        Promise.all([handle.describe(), handle.query(mailboxStateQuery)]),
      );
      return {
        ...base,
        monitor: {
          workflowId,
          status: description.status.name,
          checkpoint: state.checkpoint,
          watchingSince: iso(state.watchingSince),
          lastMessageAt: iso(state.lastMessageAt),
          lastCheckAt: iso(state.lastCheckAt),
          messagesReceived: state.messagesReceived,
          consecutiveFailures: state.consecutiveFailures,
          lastError: state.lastError,
          alerts: state.alerts,
        },
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        return { ...base, monitor: null, monitorError: 'no monitor workflow (the control worker starts it)' };
      }
      return {
        ...base,
        monitor: null,
        monitorError: `the workflow engine did not answer: ${(err as Error).message}`,
      };
    }
  }
}
