import { createTransport } from 'nodemailer';
import type { Config } from '../core/config';
import { EmailNotifier } from '../core/email-notification';
import { Notifier } from '../core/notifier';
import { SsrfGuard } from '../core/ssrf-guard';
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
