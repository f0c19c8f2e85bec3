import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Notifier } from '../core/adapters/http/notifier';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type { MailboxAlertArgs } from '../core/domain/mailbox-workflow.contract';
import { NOTIFY_MAX_ATTEMPTS } from '../core/domain/notification-events';
import type { Logger } from '../core/observability/logger';
import { type AlertsRepository, alertNotice } from '../db/alerts.repository';

// The mailbox monitor's alerts (mailbox_silent, mailbox_unreachable): decided by the workflow,
// recorded and announced here like the API's own alerts.

export interface MailboxAlertDeps {
  alerts: Pick<AlertsRepository, 'fire' | 'resolve' | 'firing'>;
  notifier: Notifier;
  logger: Logger;
}

export function createMailboxAlertActivities({ alerts, notifier, logger }: MailboxAlertDeps) {
  return {
    /** Stores the alert (GET /v1/alerts) and sends alert.fired / alert.resolved like other alerts. */
    async raiseMailboxAlert(args: MailboxAlertArgs): Promise<{ alertId: string | null }> {
      const subject = `mailbox:${args.mailbox}`;
      let row = args.firing
        ? await alerts.fire({
            rule: args.rule,
            subject,
            severity: args.rule === 'mailbox_unreachable' ? 'critical' : 'warning',
            value: args.value,
            threshold: args.threshold,
            message: args.message,
          })
        : await alerts.resolve(args.rule, subject, args.value);
      // A retry after the row was written: notify for the row that is already there.
      if (!row && args.firing) {
        row = (await alerts.firing()).find((a) => a.rule === args.rule && a.subject === subject) ?? null;
      }
      if (!row) return { alertId: null };
      if (args.firing) logger.warn({ alert: row }, `alert fired: ${args.rule} ${subject}`);
      else logger.info({ alert: row }, `alert resolved: ${args.rule} ${subject}`);
      const final = Context.current().info.attempt >= NOTIFY_MAX_ATTEMPTS;
      const outcome = await notifier.notify(alertNotice(row, args.firing ? 'fired' : 'resolved'), final);
      if (outcome.pending > 0) {
        throw ApplicationFailure.retryable(
          `${outcome.pending} alert notifications will be retried`,
          FAILURE_TYPES.deliveryPending,
        );
      }
      return { alertId: row.alertId };
    },
  };
}
