import type { Transporter } from 'nodemailer';
import type { WebhookResult } from '../../domain/notification-delivery';
import { smtpOutcome } from '../../domain/smtp';
import { singleLine } from '../../domain/template';

// The email channel of notifications: one plain-text mail per delivery row, through the SMTP relay
// (SMTP_URL). Its result has the webhook's shape, so both channels share the delivery bookkeeping.

export interface EmailNotification {
  to: string;
  event: string;
  deliveryId: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

function subject(event: string, data: Record<string, unknown>): string {
  const about = [data.robotType, data.robotId ?? data.alertId ?? data.name].filter(
    (part) => typeof part === 'string',
  );
  return singleLine(`[rpa] ${event}${about.length > 0 ? `: ${about.join(' ')}` : ''}`);
}

export class EmailNotifier {
  constructor(
    private readonly transport: Pick<Transporter, 'sendMail'>,
    private readonly from: string,
  ) {}

  /**
   * Sends one delivery. The Message-ID is the delivery's: should a crash repeat a send, mail
   * clients see the same message. SMTP 5xx is permanent; connection problems and 4xx are retried.
   */
  async send(mail: EmailNotification): Promise<WebhookResult> {
    const message = typeof mail.data.message === 'string' ? `${mail.data.message}\n\n` : '';
    try {
      await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        messageId: `<${mail.deliveryId}@rpa-orchestrator>`,
        subject: subject(mail.event, mail.data),
        text: `${message}Event ${mail.event} at ${mail.occurredAt}\n\n${JSON.stringify(mail.data, null, 2)}\n`,
        headers: { 'X-Rpa-Event': mail.event, 'X-Rpa-Delivery': mail.deliveryId },
      });
      return { ok: true, retryable: false };
    } catch (err) {
      const smtp = smtpOutcome(err);
      return {
        ok: false,
        ...(smtp.code !== undefined ? { status: smtp.code } : {}),
        error: `SMTP: ${smtp.message}`,
        retryable: !smtp.permanent,
      };
    }
  }
}
