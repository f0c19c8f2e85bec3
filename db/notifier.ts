import type { Config } from '../core/config';
import { Notifier } from '../core/notifier';
import { SsrfGuard } from '../core/ssrf-guard';
import type { DatabaseHandle } from './client';
import { NotificationsRepository } from './notifications.repository';

export function createNotifier(
  config: Pick<Config, 'NOTIFY_ALLOWED_HOSTS' | 'NOTIFY_TIMEOUT_MS'>,
  database: DatabaseHandle,
): Notifier {
  return new Notifier(
    new NotificationsRepository(database.db),
    new SsrfGuard(config.NOTIFY_ALLOWED_HOSTS),
    config.NOTIFY_TIMEOUT_MS,
  );
}
