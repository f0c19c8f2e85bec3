import type { SentEmailRow } from '../schema';

/** One email of the outbox (GET /v1/emails): who was sent what, by which robot and step. */
export interface SentEmailView {
  robotId: string;
  step: string;
  messageId: string;
  recipients: string[];
  subject: string;
  sentAt: string;
}

export function toSentEmailView(row: SentEmailRow): SentEmailView {
  return {
    robotId: row.robotId,
    step: row.step,
    messageId: row.messageId,
    recipients: row.recipients,
    subject: row.subject,
    sentAt: row.sentAt.toISOString(),
  };
}
