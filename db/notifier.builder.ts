import { createTransport } from 'nodemailer';
import { Notifier } from '../core/adapters/http/notifier';
import { SsrfGuard } from '../core/adapters/http/ssrf.guard';
import { EmailNotifier } from '../core/adapters/mail/email-notification.sender';
import type { Config } from '../core/config';
import type { DatabaseHandle } from './client';
import { NotificationsRepository } from './notifications.repository';

export function createNotifier(
  config: Pick<Config, 'NOTIFY_ALLOWED_HOSTS' | 'NOTIFY_TIMEOUT_MS' | 'SMTP_URL' | 'SMTP_FROM'>,
  database: DatabaseHandle,
): Notifier {
  return new Notifier(
    new NotificationsRepository(database.db),
    new SsrfGuard(config.NOTIFY_ALLOWED_HOSTS),
    config.NOTIFY_TIMEOUT_MS,
    config.SMTP_URL ? new EmailNotifier(createTransport(config.SMTP_URL), config.SMTP_FROM) : null,
  );
}
