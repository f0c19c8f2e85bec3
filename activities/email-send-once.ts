import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import { isDatabaseUnavailable } from '../db/database-guard';
import type { SentEmailRow } from '../db/schema';
import type { SentEmailsRepository } from '../db/sent-emails.repository';

// What the send-email step needs of its Temporal attempt to send at most once: heartbeats while the
// relay is slow, the run it belongs to, and how long it may wait for an earlier attempt
// (docs/adr/0027-send-email-once.md).

/** How often an earlier attempt's intent is read again while waiting for its outcome. */
const POLL_MS = 500;
/** Heartbeats at a third of the timeout (as the SDK's steps do), at most this far apart. */
const HEARTBEAT_EVERY_MS = 5000;
/** Between tries while the database is away: doubling from the first to the last. */
const DATABASE_RETRY_MS = [250, 2000] as const;

export interface SendAttempt {
  /** The workflow run: a robot retry is another run, and may send an intent's message again. */
  runId: string;
  /** Runs `work` with heartbeats, so a relay slower than the heartbeat timeout is not taken for a dead worker. */
  heartbeating<T>(work: Promise<T>): Promise<T>;
  /**
   * Waits, heartbeating, for an earlier attempt's `sending` intent to end: the `sent` row, or null
   * when that attempt released it (the relay certainly did not take the message). Still `sending`
   * when this attempt's own time is nearly up: fails for good, never sends it again.
   */
  awaitEarlier(sentEmails: SentEmailsRepository, robotId: string, step: string): Promise<SentEmailRow | null>;
  /**
   * Marks the intent `sent` after the relay's 250, trying again through a database outage,
   * heartbeating, until this attempt's time is nearly up: the message went out, and a retry that
   * found the intent still `sending` would fail the robot EmailOutcomeUnknown. False (and a
   * warning) when the database did not come back in time.
   */
  recordSent(sentEmails: SentEmailsRepository, robotId: string, step: string): Promise<boolean>;
  /**
   * Runs a database call of the step, waiting out a database outage (restart, unreachable),
   * heartbeating, within this attempt's time: the database being away says nothing about the
   * email, and spending the step's few retries on it would park the robot (ADR 0007).
   */
  patiently<T>(operation: () => Promise<T>): Promise<T>;
}

/** `work`'s outcome, or false once `ms` have passed (a try hung in a blackholed connection). */
function within(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside an activity (a test calling the step directly)
  }
}

export function sendAttempt(timeoutSeconds: number): SendAttempt {
  const context = activityContext();
  const budgetMs = context?.info.startToCloseTimeoutMs ?? timeoutSeconds * 1000;
  // Leave time to fail with a clear reason before Temporal times the attempt out.
  const deadline = Date.now() + budgetMs - Math.min(2000, budgetMs / 5);
  const every = Math.min(HEARTBEAT_EVERY_MS, Math.max(200, (context?.info.heartbeatTimeoutMs ?? 0) / 3));
  const sleep = (ms: number) =>
    context ? context.sleep(ms) : new Promise<void>((resolve) => setTimeout(resolve, ms));
  const heartbeating = async <T>(work: Promise<T>): Promise<T> => {
    if (!context) return work;
    context.heartbeat();
    const timer = setInterval(() => context.heartbeat(), every);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  };
  const patiently = async <T>(operation: () => Promise<T>): Promise<T> => {
    for (let wait: number = DATABASE_RETRY_MS[0]; ; wait = Math.min(wait * 2, DATABASE_RETRY_MS[1])) {
      try {
        return await heartbeating(operation());
      } catch (err) {
        if (!isDatabaseUnavailable(err) || Date.now() + wait >= deadline) throw err;
      }
      await sleep(wait);
    }
  };
  return {
    runId: context?.info.workflowExecution?.runId ?? '',
    heartbeating,
    patiently,
    async recordSent(sentEmails, robotId, step) {
      for (let wait: number = DATABASE_RETRY_MS[0]; ; wait = Math.min(wait * 2, DATABASE_RETRY_MS[1])) {
        const tried = sentEmails.markSent(robotId, step).then(
          () => true,
          () => false,
        );
        if (await heartbeating(within(tried, Math.max(500, deadline - Date.now())))) return true;
        if (Date.now() + wait >= deadline) {
          context?.log.warn(
            'send-email: sent, but the database did not record it in time; its outbox row stays sending',
            {
              robotId,
              step,
            },
          );
          return false;
        }
        await sleep(wait);
      }
    },
    async awaitEarlier(sentEmails, robotId, step) {
      for (;;) {
        const row = await patiently(() => sentEmails.find(robotId, step));
        if (!row || row.status === 'sent') return row;
        if (Date.now() >= deadline) {
          throw ApplicationFailure.nonRetryable(
            `send-email: an earlier attempt began sending ${row.messageId} and recorded no outcome; ` +
              'the SMTP relay may have accepted it, so it is not sent again. Check with the recipient; ' +
              'retrying the robot sends it again with the same Message-ID',
            FAILURE_TYPES.emailOutcomeUnknown,
          );
        }
        context?.heartbeat();
        // Cancellation-aware inside an activity: a cancelled robot stops waiting.
        await sleep(POLL_MS);
      }
    },
  };
}
