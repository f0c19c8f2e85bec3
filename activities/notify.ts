import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Notifier } from '../core/adapters/http/notifier';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import type { NotifyOutcome, NotifyRequest } from '../core/domain/notification-delivery';
import { NOTIFY_MAX_ATTEMPTS } from '../core/domain/notification-events';
import type { StepDefinition } from '../core/domain/robot-types';
import { renderTemplate, TemplateError } from '../core/domain/template';
import type { Logger } from '../core/observability/logger';

export interface NotifyDeps {
  notifier: Notifier;
  logger: Logger;
}

/** What a notify step hands its activity: the robot's data, as module steps get it. */
export interface NotifyStepRequest {
  robotId: string;
  robotType: string;
  /** Stable per run and step: a retry re-uses the delivery rows. */
  eventKey: string;
  step: StepDefinition;
  input: Record<string, unknown>;
  previous: Record<string, Record<string, unknown>>;
}

export function createNotifyActivities({ notifier, logger }: NotifyDeps) {
  /** Temporal retries the activity (with backoff) while deliveries are pending; the last try settles them. */
  const deliver = async (request: NotifyRequest): Promise<NotifyOutcome> => {
    const final = Context.current().info.attempt >= NOTIFY_MAX_ATTEMPTS;
    const outcome = await notifier.notify(request, final);
    if (outcome.failed > 0) logger.warn({ event: request.event, outcome }, 'notification deliveries failed');
    if (outcome.pending > 0) {
      throw ApplicationFailure.retryable(
        `${outcome.pending} notification deliveries will be retried`,
        FAILURE_TYPES.deliveryPending,
      );
    }
    return outcome;
  };

  return {
    /**
     * Delivers a robot event to its subscribers. Idempotent: deliveries already made are skipped,
     * so Temporal's retries (with backoff) only retry the ones that failed retryably.
     */
    notifyRobotEvent: deliver,

    /**
     * The notify step: its templated `params.message` as `robot.notified` to the subscribers of the
     * robot's type. Deliveries that fail for good are counted, not thrown: like every notification,
     * a subscriber that cannot be reached never fails the robot. A message that does not render does.
     */
    async notifyStep({ robotId, robotType, eventKey, step, input, previous }: NotifyStepRequest) {
      let message: string;
      try {
        message = renderTemplate(String(step.params.message ?? ''), { robotId, input, previous });
      } catch (err) {
        if (err instanceof TemplateError)
          throw ApplicationFailure.nonRetryable(`notify: ${err.message}`, FAILURE_TYPES.templateError);
        throw err;
      }
      const outcome = await deliver({
        event: 'robot.notified',
        eventKey,
        robotType,
        payload: { robotId, robotType, step: step.name, message },
      });
      const subscribers = outcome.delivered + outcome.failed;
      return {
        message,
        subscribers,
        delivered: outcome.delivered,
        failed: outcome.failed,
        ...(subscribers === 0 ? { note: `no subscribers to robot.notified for ${robotType}` } : {}),
      };
    },
  };
}
