import { ApplicationFailure } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import { certainlyNotAccepted, EMAIL_ADDRESS, smtpOutcome } from '../core/domain/smtp';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import { escapeHtml, renderTemplate, singleLine, TemplateError } from '../core/domain/template';
import { emailsSent } from '../core/observability/metrics';
import type { SentEmailRow } from '../db/schema';
import type { SentEmailsRepository } from '../db/sent-emails.repository';
import { type Attachment, type AttachmentDeps, loadAttachments } from './email-attachments';
import { sendAttempt } from './email-send-once';

export interface EmailStepDeps {
  /** Null when SMTP_URL is not configured: the step then fails with a clear, permanent error. */
  transport: Transporter | null;
  from: string;
  /** Null when the module worker has no database: sending could not be made idempotent. */
  sentEmails: SentEmailsRepository | null;
  /** Where `params.attachments` (document ids) are read; without it a step with attachments fails. */
  attachments?: AttachmentDeps | null;
}

function param(step: StepInput['step'], name: string, required: boolean): string | undefined {
  const value = step.params[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `send-email: parameter "${name}" must be a non-empty string`,
      FAILURE_TYPES.invalidStepDefinition,
    );
  }
  return value;
}

function recipients(step: StepInput['step'], data: unknown): string[] {
  const raw = step.params.to;
  const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const rendered = list.map((entry) =>
    typeof entry === 'string' ? singleLine(renderTemplate(entry, data)) : '',
  );
  if (rendered.length === 0 || rendered.some((address) => !EMAIL_ADDRESS.test(address))) {
    throw ApplicationFailure.nonRetryable(
      `send-email: "to" must be one or more email addresses, got ${JSON.stringify(rendered)}`,
      FAILURE_TYPES.invalidRecipient,
    );
  }
  return rendered;
}

function alreadySent(row: SentEmailRow): StepOutput {
  emailsSent.inc({ outcome: 'already_sent' });
  return { messageId: row.messageId, to: row.recipients, alreadySent: true };
}

function smtpFailure(err: unknown): ApplicationFailure {
  const smtp = smtpOutcome(err);
  const text = `SMTP refused or failed: ${smtp.message}`;
  return smtp.permanent
    ? ApplicationFailure.nonRetryable(text, FAILURE_TYPES.smtpRejected)
    : ApplicationFailure.retryable(text, FAILURE_TYPES.smtpUnavailable);
}

export function createEmailStepActivities({
  transport,
  from,
  sentEmails,
  attachments = null,
}: EmailStepDeps) {
  return {
    /**
     * Sends one templated email per robot and step, at most once: the intent (`sending`, with the
     * Message-ID) is written before the SMTP exchange and marked `sent` after the 250. A retry that
     * finds it sends nothing; one that finds it `sending` waits for the earlier attempt's outcome,
     * and fails for good (`EmailOutcomeUnknown`) rather than risk a second copy (docs/steps.md).
     */
    async 'send-email'({ robotId, step, input, previous }: StepInput): Promise<StepOutput> {
      if (!transport) {
        throw ApplicationFailure.nonRetryable(
          'send-email: SMTP_URL is not configured on this module',
          FAILURE_TYPES.smtpNotConfigured,
        );
      }
      if (!sentEmails) {
        throw ApplicationFailure.nonRetryable(
          'send-email: this module has no database to record sends',
          FAILURE_TYPES.noDatabase,
        );
      }
      const attempt = sendAttempt(step.timeoutSeconds);
      const done = await attempt.patiently(() => sentEmails.find(robotId, step.name));
      if (done?.status === 'sent') return alreadySent(done);

      const data = { robotId, input, previous };
      let message: { to: string[]; subject: string; text: string; html?: string; attachments: Attachment[] };
      try {
        const html = param(step, 'html', false);
        message = {
          to: recipients(step, data),
          subject: singleLine(renderTemplate(param(step, 'subject', true) ?? '', data)),
          text: renderTemplate(param(step, 'text', true) ?? '', data),
          ...(html ? { html: renderTemplate(html, data, escapeHtml) } : {}),
          attachments: await loadAttachments(step.params.attachments, data, attachments),
        };
      } catch (err) {
        if (err instanceof TemplateError)
          throw ApplicationFailure.nonRetryable(`send-email: ${err.message}`, FAILURE_TYPES.templateError);
        throw err;
      }
      const messageId = `<${robotId}.${step.name}@rpa-orchestrator>`;
      const intent = {
        robotId,
        step: step.name,
        messageId,
        recipients: message.to,
        subject: message.subject,
        runId: attempt.runId,
      };
      for (;;) {
        if (await attempt.patiently(() => sentEmails.claim(intent))) break;
        if (await attempt.patiently(() => sentEmails.takeOver(robotId, step.name, attempt.runId))) break;
        const earlier = await attempt.awaitEarlier(sentEmails, robotId, step.name);
        if (earlier) return alreadySent(earlier);
        // Released: the relay never took it, so this attempt may send.
      }
      try {
        await attempt.heartbeating(transport.sendMail({ from, messageId, ...message }));
      } catch (err) {
        emailsSent.inc({ outcome: 'failed' });
        if (certainlyNotAccepted(err)) {
          await attempt.patiently(() => sentEmails.release(robotId, step.name));
          throw smtpFailure(err);
        }
        throw ApplicationFailure.nonRetryable(
          `send-email: the SMTP exchange of ${messageId} broke before the relay answered (${smtpOutcome(err).message}); ` +
            'it may have accepted the message, so it is not sent again. Check with the recipient; ' +
            'retrying the robot sends it again with the same Message-ID',
          FAILURE_TYPES.emailOutcomeUnknown,
        );
      }
      emailsSent.inc({ outcome: 'sent' });
      // Even when Temporal has given this attempt up (paused, past its heartbeat timeout): a retry
      // waiting on the intent completes the step with this record. Postgres away at this moment
      // must not fail the step: the relay took the message, so the step completes either way (an
      // intent the database did not take in time stays `sending`, and says so in the log).
      await attempt.recordSent(sentEmails, robotId, step.name);
      return {
        messageId,
        to: message.to,
        alreadySent: false,
        ...(message.attachments.length > 0
          ? { attachments: message.attachments.map((file) => file.filename) }
          : {}),
      };
    },
  };
}
