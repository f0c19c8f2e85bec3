import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowHandle,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { StatusCache } from '../core/adapters/redis/status-cache';
import type { Config } from '../core/config';
import { ConflictError, NotFoundError, UnavailableError } from '../core/domain/errors';
import { isTerminal, type RobotPriority, type RobotStatus } from '../core/domain/robot';
import type { RobotTypeDefinition } from '../core/domain/robot-types';
import {
  type ApprovalDecision,
  type ControlAnswer,
  type ResumePoint,
  ROBOT_WORKFLOW,
  type RobotArgsConfig,
  robotStartOptions,
  robotWorkflowArgs,
} from '../core/domain/robot-workflow.contract';
import { readStepDetails, type StepDetails } from '../core/domain/step-details';
import type { Logger } from '../core/observability/logger';
import type { DatabaseGuard } from '../db/database-guard';
import type { ExecutionsRepository } from '../db/executions.repository';
import { type RobotsRepository, slaOf } from '../db/robots.repository';
import { toRobotView } from '../db/views/robot.view';
import {
  approveUpdate,
  pauseUpdate,
  rejectUpdate,
  reprioritizeUpdate,
  resumeUpdate,
} from '../workflows/robot/robot.definitions';
import type { RobotsService } from './robots.service';

export type ControlAction = 'cancel' | 'pause' | 'resume' | 'retry' | 'approve' | 'reject' | 'reprioritize';

/** The answer to a control request: accepted; the robot's status changes as its workflow acts. */
export interface ControlResult {
  robotId: string;
  action: ControlAction;
  status: RobotStatus;
  effect: string;
  runId?: string;
}

/** Finds the definition a robot ran with: its type at the version recorded on the robot. */
export type DefinitionResolver = (name: string, version: number) => Promise<RobotTypeDefinition | undefined>;

export interface RobotControlDeps {
  config: Pick<Config, 'CONTROL_TASK_QUEUE' | 'TEMPORAL_RPC_TIMEOUT_MS'> & RobotArgsConfig;
  temporal: Client;
  robotsService: RobotsService;
  robots: RobotsRepository;
  executions: ExecutionsRepository;
  cache: StatusCache;
  guard: DatabaseGuard;
  resolveDefinition: DefinitionResolver;
  logger: Logger;
}

const updates = { pause: pauseUpdate, resume: resumeUpdate, approve: approveUpdate, reject: rejectUpdate };

/** Operator actions on a robot: cancel, pause/resume, approve/reject (updates), retry (a new run). */
export class RobotControlService {
  constructor(private readonly deps: RobotControlDeps) {}

  private withDeadline<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.deps.config.TEMPORAL_RPC_TIMEOUT_MS;
    return this.deps.temporal.withDeadline(deadline, call);
  }

  /** The robot's status, or 404; 409 when it has finished and so takes no more actions. */
  private async openRobot(robotId: string, action: ControlAction): Promise<RobotStatus> {
    const { robot } = await this.deps.robotsService.get(robotId);
    if (isTerminal(robot.status)) {
      throw new ConflictError(`robot is ${robot.status}; ${action} needs a robot that is still open`, {
        robotId,
        robotStatus: robot.status,
      });
    }
    return robot.status;
  }

  private closedMeanwhile(robotId: string, action: ControlAction): ConflictError {
    return new ConflictError(`robot has finished; ${action} needs a robot that is still open`, { robotId });
  }

  async cancel(robotId: string): Promise<ControlResult> {
    const status = await this.openRobot(robotId, 'cancel');
    try {
      await this.withDeadline(() => this.deps.temporal.workflow.getHandle(robotId).cancel());
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw this.closedMeanwhile(robotId, 'cancel');
      throw this.unavailable(err, robotId, 'cancel');
    }
    return { robotId, action: 'cancel', status, effect: 'stops now and ends cancelled' };
  }

  /**
   * pause, resume, approve, reject: workflow updates whose validators refuse what does not fit.
   * With an Idempotency-Key the update's id is `<action>:<key>`: Temporal runs an update id once, so
   * a retry after a lost answer (a 503 whose update did take effect) gets that update's answer, even
   * when the robot has finished since, instead of a 409.
   */
  async update(
    robotId: string,
    action: keyof typeof updates,
    decision?: ApprovalDecision,
    idempotencyKey?: string,
  ): Promise<ControlResult> {
    return this.runUpdate(robotId, action, idempotencyKey, (handle, options) =>
      action === 'approve' || action === 'reject'
        ? handle.executeUpdate(updates[action], { args: [decision ?? {}], ...options })
        : handle.executeUpdate(updates[action], options),
    );
  }

  /**
   * A new priority for an open robot: its remaining steps are dispatched with it (a workflow update,
   * so a finished robot or one the SLA raised answers 409), then its row and cached view show it.
   */
  async reprioritize(
    robotId: string,
    priority: RobotPriority,
    idempotencyKey?: string,
  ): Promise<ControlResult> {
    const result = await this.runUpdate(robotId, 'reprioritize', idempotencyKey, (handle, options) =>
      handle.executeUpdate(reprioritizeUpdate, { args: [priority], ...options }),
    );
    const { guard, robots, cache } = this.deps;
    // The workflow holds the truth; a row or cache left behind is corrected by the next progress write.
    await guard.run(() => robots.setPriority(robotId, priority)).catch(() => null);
    const cached = await cache.get(robotId).catch(() => null);
    if (cached && !isTerminal(cached.status)) await cache.set({ ...cached, priority }).catch(() => undefined);
    return result;
  }

  private async runUpdate(
    robotId: string,
    action: ControlAction,
    idempotencyKey: string | undefined,
    call: (handle: WorkflowHandle, options: { updateId?: string }) => Promise<ControlAnswer>,
  ): Promise<ControlResult> {
    const updateId = idempotencyKey ? `${action}:${idempotencyKey}` : undefined;
    const handle = this.deps.temporal.workflow.getHandle(robotId);
    try {
      await this.openRobot(robotId, action);
    } catch (err) {
      const earlier =
        updateId && err instanceof ConflictError ? await this.earlierAnswer(robotId, updateId) : null;
      if (earlier) return { robotId, action, ...earlier };
      throw err;
    }
    let answer: ControlAnswer;
    try {
      answer = await this.withDeadline(() => call(handle, updateId ? { updateId } : {}));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const reason = err.cause instanceof Error ? err.cause.message : err.message;
        throw new ConflictError(reason, { robotId });
      }
      if (err instanceof WorkflowNotFoundError) throw this.closedMeanwhile(robotId, action);
      throw this.unavailable(err, robotId, action);
    }
    return { robotId, action, ...answer };
  }

  /** The answer of an update this key already made on the robot's run, or null when it made none. */
  private async earlierAnswer(robotId: string, updateId: string): Promise<ControlAnswer | null> {
    try {
      const handle = this.deps.temporal.workflow.getHandle(robotId).getUpdateHandle<ControlAnswer>(updateId);
      return await this.withDeadline(() => handle.result());
    } catch {
      return null; // no such update (or not answerable now): the robot's own 409 stands
    }
  }

  /**
   * A failed robot runs again under the same workflow id: a new run that starts at the failed step
   * with the earlier steps' outputs (stored in robot_execute.step_details by the failed run).
   */
  async retry(robotId: string): Promise<ControlResult> {
    const { guard, robots, executions } = this.deps;
    const row = await guard.run(() => robots.findById(robotId));
    if (!row) {
      await this.deps.robotsService.get(robotId); // 404 when nobody knows it
      throw new ConflictError('robot has no stored input to retry with', { robotId });
    }
    if (row.status !== 'failed') {
      throw new ConflictError(`robot is ${row.status}; only a failed robot can be retried`, {
        robotId,
        robotStatus: row.status,
      });
    }
    const handle = this.deps.temporal.workflow.getHandle(robotId);
    const description = await this.withDeadline(() => handle.describe()).catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw this.unavailable(err, robotId, 'retry');
    });
    if (description?.status.name === 'RUNNING') {
      throw new ConflictError('robot is still finishing its failed run; retry in a moment', { robotId });
    }
    const definition = await this.deps.resolveDefinition(row.robotType, row.robotTypeVersion);
    if (!definition) {
      throw new ConflictError(`robot type ${row.robotType} v${row.robotTypeVersion} no longer exists`, {
        robotId,
      });
    }
    const execution = await guard.run(() => executions.latestForRobot(robotId));
    const resumeFrom = resumePoint(readStepDetails(execution?.stepDetails));

    // The conditional update is the lock: of two concurrent retries only one finds the robot failed.
    const claimed = await guard.run(() => robots.markRetrying(robotId));
    if (!claimed) throw new ConflictError('robot is already being retried', { robotId });
    await this.deps.cache.set(toRobotView(claimed, null)).catch(() => undefined);
    const args = robotWorkflowArgs({
      config: this.deps.config,
      robotId,
      definition,
      input: row.inputData,
      priority: row.priority,
      resumeFrom,
      sla: slaOf(row),
    });
    try {
      const started = await this.withDeadline(() =>
        this.deps.temporal.workflow.start(ROBOT_WORKFLOW, {
          ...robotStartOptions(args, this.deps.config.CONTROL_TASK_QUEUE),
          // Never replaces a completed run, whatever the row says.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        }),
      );
      const from = definition.steps[resumeFrom.stepIndex]?.name ?? 'the end';
      return {
        robotId,
        action: 'retry',
        status: 'queued',
        effect: `runs again from step ${from}`,
        runId: started.firstExecutionRunId,
      };
    } catch (err) {
      await guard.run(() => robots.restoreFailed(robotId, row.errorMessage)).catch(() => undefined);
      await this.deps.cache.set(toRobotView(row, null)).catch(() => undefined);
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ConflictError('robot is already running again', { robotId });
      }
      throw this.unavailable(err, robotId, 'retry');
    }
  }

  private unavailable(err: unknown, robotId: string, action: ControlAction): Error {
    if (err instanceof ConflictError || err instanceof NotFoundError) return err;
    this.deps.logger.error({ err, robotId, action }, 'robot control call to Temporal failed');
    const timedOut = err instanceof WorkflowUpdateRPCTimeoutOrCancelledError;
    return new UnavailableError(
      timedOut
        ? `the robot did not answer ${action} in time; retry later`
        : `the workflow engine is unavailable; ${action} was not applied, retry later`,
    );
  }
}

/** The first step the failed run did not complete, and what the steps before it produced. */
export function resumePoint({ steps, outputs: stored = {} }: StepDetails): ResumePoint {
  const failedAt = steps.findIndex((step) => step.status !== 'completed');
  const stepIndex = failedAt === -1 ? steps.length : failedAt;
  const done = new Set(steps.slice(0, stepIndex).map((step) => step.name));
  const outputs = Object.fromEntries(Object.entries(stored).filter(([name]) => done.has(name)));
  return { stepIndex, steps: steps.slice(0, stepIndex), outputs };
}
