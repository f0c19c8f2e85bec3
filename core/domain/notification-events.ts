// Zod-free and I/O-free: shared by the workflow (which schedules notifications), activities and API.

export const NOTIFICATION_EVENTS = [
  'robot.completed',
  'robot.failed',
  'robot.cancelled',
  'robot.parked',
  'robot.awaiting_approval',
  /** Sent by a robot's `notify` step, with its templated message. */
  'robot.notified',
  'robot.sla_at_risk',
  'robot.sla_missed',
  'alert.fired',
  'alert.resolved',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * Attempts of the notify activity (exponential backoff from 2 s: about 4 minutes in all); on the
 * last one a retryable failure is recorded as failed. A robot never fails because of a webhook.
 */
export const NOTIFY_MAX_ATTEMPTS = 8;
