import type { SentEmailRow } from '../schema';

/** One email of the outbox (GET /v1/emails): who was sent what, by which robot and step. */
export interface SentEmailView {
  robotId: string;
  step: string;
  messageId: string;
  recipients: string[];
  subject: string;
  /** `sending`: the SMTP exchange began and no attempt knows whether the relay accepted it. */
  status: 'sending' | 'sent';
  sentAt: string;
}

export function toSentEmailView(row: SentEmailRow): SentEmailView {
  return {
    robotId: row.robotId,
    step: row.step,
    messageId: row.messageId,
    recipients: row.recipients,
    subject: row.subject,
    status: row.status,
    sentAt: row.sentAt.toISOString(),
  };
}
