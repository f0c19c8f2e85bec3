import { Context } from '@temporalio/activity';
import type {
  BulkAction,
  BulkApplyArgs,
  BulkFinishedArgs,
  BulkOutcome,
  BulkPage,
  BulkPageArgs,
} from '../core/domain/bulk-operation.contract';
import { ConflictError, NotFoundError } from '../core/domain/errors';
import type { RobotPriority } from '../core/domain/robot';
import type { Logger } from '../core/observability/logger';
import type { NewAuditRow } from '../db/audit.repository';

// The bulk robots workflow's activities (ADR 0049): read the matching ids page by page, act on a
// batch of robots through the single-robot controls, audit the outcome. Idempotent: a retried batch
// resumes after the last robot it reported in a heartbeat, and a robot already acted on answers
// "skipped" (a cancelled robot is not open; a resume or reprioritize repeats its own update id).

/** The single-robot controls (api/robot-control.service.ts), as a bulk action needs them. */
export interface BulkRobotControls {
  cancel(robotId: string): Promise<unknown>;
  retry(robotId: string): Promise<unknown>;
  resume(robotId: string, updateKey: string): Promise<unknown>;
  reprioritize(robotId: string, priority: RobotPriority, updateKey: string): Promise<unknown>;
}

export interface BulkActivityDeps {
  /** The matching robots' ids, one page (api/bulk-robots.matcher.ts). */
  page(args: BulkPageArgs): Promise<BulkPage>;
  controls: BulkRobotControls;
  audit: { insert(row: NewAuditRow): Promise<void> };
  concurrency: number;
  logger: Logger;
}

/** A reason counted by text: bounded, and without the robot's id so equal reasons add up. */
function reasonOf(err: unknown, robotId: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replaceAll(robotId, '<robot>').slice(0, 200);
}

async function actOn(
  controls: BulkRobotControls,
  args: BulkApplyArgs,
  robotId: string,
): Promise<BulkOutcome> {
  // The operation's id as the update id: a repeat of this batch gets the first update's answer.
  const updateKey = `bulk:${args.operationId}`;
  const act: Record<BulkAction, () => Promise<unknown>> = {
    cancel: () => controls.cancel(robotId),
    retry: () => controls.retry(robotId),
    resume: () => controls.resume(robotId, updateKey),
    reprioritize: () => controls.reprioritize(robotId, args.priority ?? 'normal', updateKey),
  };
  try {
    await act[args.action]();
    return { robotId, result: 'done' };
  } catch (err) {
    // The robot's state refuses the action (finished, not failed, not paused…): skipped, with why.
    if (err instanceof ConflictError || err instanceof NotFoundError)
      return { robotId, result: 'skipped', reason: reasonOf(err, robotId) };
    return { robotId, result: 'failed', reason: reasonOf(err, robotId) };
  }
}

export interface BulkActivities {
  listBulkPage(args: BulkPageArgs): Promise<BulkPage>;
  applyBulkAction(args: BulkApplyArgs): Promise<{ outcomes: BulkOutcome[] }>;
  recordBulkFinished(args: BulkFinishedArgs): Promise<void>;
}

export function createBulkActivities(deps: BulkActivityDeps): BulkActivities {
  return {
    async listBulkPage(args: BulkPageArgs): Promise<BulkPage> {
      return deps.page(args);
    },

    async applyBulkAction(args: BulkApplyArgs): Promise<{ outcomes: BulkOutcome[] }> {
      const context = Context.current();
      // A retry: the robots an earlier attempt reported keep their outcome and are not acted on again.
      const earlier = (context.info.heartbeatDetails as BulkOutcome[] | undefined) ?? [];
      const outcomes = new Map(earlier.map((outcome) => [outcome.robotId, outcome]));
      const queue = args.robotIds.filter((robotId) => !outcomes.has(robotId));
      const worker = async () => {
        for (let robotId = queue.shift(); robotId !== undefined; robotId = queue.shift()) {
          outcomes.set(robotId, await actOn(deps.controls, args, robotId));
          context.heartbeat([...outcomes.values()]);
        }
      };
      await Promise.all(Array.from({ length: Math.min(deps.concurrency, queue.length) }, worker));
      return {
        outcomes: args.robotIds.flatMap((robotId) => {
          const outcome = outcomes.get(robotId);
          return outcome ? [outcome] : [];
        }),
      };
    },

    /** The outcome on the audit log: who asked, the operation, and the counts (in `target`). */
    async recordBulkFinished({
      operationId,
      action,
      actor,
      keyId,
      progress,
    }: BulkFinishedArgs): Promise<void> {
      const counts = `matched=${progress.matched} done=${progress.done} skipped=${progress.skipped} failed=${progress.failed}`;
      await deps.audit.insert({
        keyId,
        actor,
        action: `robots.bulk-${action}.${progress.state}`,
        target: `${operationId} ${counts}`,
        ip: null,
        requestId: operationId,
        outcome: progress.failed > 0 ? 'failure' : 'success',
        status: null,
      });
      deps.logger.info({ ...progress, failures: undefined }, 'bulk operation finished');
    },
  };
}
