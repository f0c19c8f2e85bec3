import {
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities } from '../activities/types';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type { MailboxAlertRule, MailboxMonitorState } from '../core/domain/mailbox-workflow.contract';
import { NOTIFY_MAX_ATTEMPTS } from '../core/domain/notification-events';
import { mailboxStateQuery } from './mailbox-monitor.definitions';

// One long-running workflow per configured mailbox (id mailbox-<name>): it asks an activity to read
// new mail (IDLE-bounded) in a loop, keeps the UID checkpoint in its own state, raises and resolves
// the mailbox_silent / mailbox_unreachable alerts, and continues-as-new to keep its history short.

/** Loop iterations per run before continue-as-new (each is a few history events). */
const ITERATIONS_PER_RUN = 200;

function errorText(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function mailboxMonitorWorkflow(initial: MailboxMonitorState): Promise<never> {
  const state: MailboxMonitorState = { ...initial, alerts: { ...initial.alerts } };
  setHandler(mailboxStateQuery, () => state);
  state.watchingSince ??= Date.now();

  const { checkMailbox } = proxyActivities<ControlActivities>({
    // The activity waits up to pollIntervalMs for mail, then handles what came: bounded, heartbeating.
    startToCloseTimeout: state.pollIntervalMs + 10 * 60_000,
    heartbeatTimeout: '60 seconds',
    // Failures are counted here (the unreachable alert), not hidden in activity retries.
    retry: { maximumAttempts: 1 },
  });
  const { raiseMailboxAlert } = proxyActivities<ControlActivities>({
    startToCloseTimeout: '1 minute',
    // As many tries as the notifier allows: its last one settles deliveries still pending.
    retry: { initialInterval: '1 second', maximumAttempts: NOTIFY_MAX_ATTEMPTS },
  });

  const setAlert = async (rule: MailboxAlertRule, firing: boolean, value: number, threshold: number) => {
    const key = rule === 'mailbox_silent' ? 'silent' : 'unreachable';
    if (state.alerts[key] === firing) return;
    const message =
      rule === 'mailbox_silent'
        ? `mailbox ${state.mailbox}: no new mail for ${Math.round(value)} s (expected within ${threshold} s)`
        : `mailbox ${state.mailbox}: ${value} checks failed in a row (${state.lastError ?? ''})`;
    try {
      await raiseMailboxAlert({ mailbox: state.mailbox, rule, firing, value, threshold, message });
      state.alerts[key] = firing;
    } catch {
      // Postgres may be away too: the next iteration tries again; the monitor itself keeps going.
    }
  };

  const iterations = state.iterationsPerRun ?? ITERATIONS_PER_RUN;
  for (let i = 0; i < iterations && !workflowInfo().continueAsNewSuggested; i++) {
    try {
      const result = await checkMailbox({
        mailbox: state.mailbox,
        checkpoint: state.checkpoint,
        waitMs: state.pollIntervalMs,
      });
      state.checkpoint = result.checkpoint;
      state.lastCheckAt = Date.now();
      state.consecutiveFailures = 0;
      state.lastError = null;
      if (result.received > 0) {
        state.lastMessageAt = Date.now();
        state.messagesReceived += result.received;
      }
      await setAlert('mailbox_unreachable', false, 0, state.failuresBeforeAlert);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FAILURE_TYPES.mailboxNotConfigured) throw err;
      state.consecutiveFailures += 1;
      state.lastError = errorText(err);
      if (state.consecutiveFailures >= state.failuresBeforeAlert) {
        await setAlert('mailbox_unreachable', true, state.consecutiveFailures, state.failuresBeforeAlert);
      }
      // Back off 1, 2, 4… s, at most one poll interval, before the next attempt.
      await sleep(Math.min(state.pollIntervalMs, 1000 * 2 ** Math.min(state.consecutiveFailures - 1, 8)));
    }
    const silentMs = Date.now() - (state.lastMessageAt ?? state.watchingSince);
    await setAlert(
      'mailbox_silent',
      silentMs > state.expectedHeartbeatMs,
      silentMs / 1000,
      state.expectedHeartbeatMs / 1000,
    );
  }
  return continueAsNew<typeof mailboxMonitorWorkflow>(state);
}
