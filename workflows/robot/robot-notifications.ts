import { log, patched, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities/types';
import { NOTIFY_MAX_ATTEMPTS, type NotificationEvent } from '../../core/domain/notification-events';
import type { RobotProgress } from '../../core/domain/robot';

/** Runs started before notifications replay without them (no marker in their history). */
export const NOTIFY_PATCH = 'robot-notify-v1';

// A normal activity (not local): deliveries can take minutes of retries with backoff. Also the
// notify step's (step-extras.ts).
export const notifications = proxyActivities<ControlActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: NOTIFY_MAX_ATTEMPTS,
  },
});

/**
 * Tells subscribers about a robot event; scheduled only when recordProgress found subscribers. A
 * final status is awaited (the run must not end before the delivery is done); a parked robot or one
 * awaiting approval goes on at once. A webhook never fails a robot.
 */
export async function notifyRobotEvent(
  event: NotificationEvent,
  progress: RobotProgress,
  runId: string,
  extra: { processingTimeMs?: number; error?: string | null },
): Promise<void> {
  if (!patched(NOTIFY_PATCH)) return;
  const sent = notifications
    .notifyRobotEvent({
      event,
      eventKey: `${progress.robotId}:${runId}:${progress.sequence ?? 0}:${event}`,
      robotType: progress.robotType,
      payload: {
        robotId: progress.robotId,
        robotType: progress.robotType,
        status: progress.status,
        priority: progress.priority,
        moduleName: progress.moduleName,
        currentStep: progress.currentStep,
        reason: progress.reason ?? null,
        retryCount: progress.retryCount,
        ...(progress.sla ? { sla: progress.sla } : {}),
        ...(extra.processingTimeMs !== undefined ? { processingTimeMs: extra.processingTimeMs } : {}),
        ...(extra.error ? { error: extra.error } : {}),
      },
    })
    .then(
      () => undefined,
      (err: unknown) =>
        log.warn('notification not delivered', { event, robotId: progress.robotId, err: String(err) }),
    );
  const final = event === 'robot.completed' || event === 'robot.failed' || event === 'robot.cancelled';
  if (final) await sent;
}
