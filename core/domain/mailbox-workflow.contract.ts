// The mailbox monitor workflow's contract, below both sides: its name and state (the control worker
// starts it, the API reads it through GET /v1/mailboxes) and the shapes of its activities. The query
// handle itself is in workflows/mailbox-monitor.definitions.ts.

export const MAILBOX_MONITOR_WORKFLOW = 'mailboxMonitorWorkflow';

/** Where the monitor stopped reading: UIDs are only comparable within one UIDVALIDITY. */
export interface MailboxCheckpoint {
  uidValidity: string;
  lastUid: number;
}

/** The workflow's argument and its state, carried across continue-as-new. No secrets: ids and times. */
export interface MailboxMonitorState {
  mailbox: string;
  /** From the mailbox config at start; settings changes apply to a monitor started afterwards. */
  expectedHeartbeatMs: number;
  pollIntervalMs: number;
  failuresBeforeAlert: number;
  checkpoint: MailboxCheckpoint | null;
  /** Epoch ms: the last time a new message arrived, or when the monitor first started. */
  lastMessageAt: number | null;
  watchingSince: number | null;
  lastCheckAt: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  messagesReceived: number;
  alerts: { silent: boolean; unreachable: boolean };
  /** Loop iterations before continue-as-new (default 200; tests set a small number). */
  iterationsPerRun?: number;
}

export interface CheckMailboxArgs {
  mailbox: string;
  checkpoint: MailboxCheckpoint | null;
  /** How long to wait (IDLE, or polling without it) for new mail when there is none. */
  waitMs: number;
}

export interface CheckMailboxResult {
  checkpoint: MailboxCheckpoint;
  /** New messages handled (robot started, or found already started). */
  received: number;
  robotsStarted: number;
  duplicates: number;
}

export type MailboxAlertRule = 'mailbox_silent' | 'mailbox_unreachable';

export interface MailboxAlertArgs {
  mailbox: string;
  rule: MailboxAlertRule;
  firing: boolean;
  /** Seconds silent, or consecutive failures. */
  value: number;
  threshold: number;
  message: string;
}

export function initialMailboxState(
  mailbox: string,
  settings: { expectedHeartbeatMs: number; pollIntervalMs: number; failuresBeforeAlert: number },
): MailboxMonitorState {
  return {
    mailbox,
    ...settings,
    checkpoint: null,
    lastMessageAt: null,
    watchingSince: null,
    lastCheckAt: null,
    consecutiveFailures: 0,
    lastError: null,
    messagesReceived: 0,
    alerts: { silent: false, unreachable: false },
  };
}
