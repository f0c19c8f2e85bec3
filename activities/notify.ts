import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../core/logger';
import { NOTIFY_MAX_ATTEMPTS } from '../core/notification-events';
import type { Notifier, NotifyOutcome, NotifyRequest } from '../core/notifier';

export interface NotifyDeps {
  notifier: Notifier;
  logger: Logger;
}

export function createNotifyActivities({ notifier, logger }: NotifyDeps) {
  return {
    /**
     * Delivers a robot event to its subscribers. Idempotent: deliveries already made are skipped,
     * so Temporal's retries (with backoff) only retry the ones that failed retryably.
     */
    async notifyRobotEvent(request: NotifyRequest): Promise<NotifyOutcome> {
      const final = Context.current().info.attempt >= NOTIFY_MAX_ATTEMPTS;
      const outcome = await notifier.notify(request, final);
      if (outcome.failed > 0) logger.warn({ event: request.event, outcome }, 'webhook deliveries failed');
      if (outcome.pending > 0) {
        throw ApplicationFailure.retryable(
          `${outcome.pending} webhook deliveries will be retried`,
          'DeliveryPending',
        );
      }
      return outcome;
    },
  };
}
