import {
  ApplicationFailure,
  proxyLocalActivities,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, SelectionRequest, StepOutcome } from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import { NO_ELIGIBLE_MODULE } from '../../core/domain/load-balancer';
import type { RobotProgress, RobotStatus, StepProgress, StoredDecision } from '../../core/domain/robot';
import type { StepDefinition } from '../../core/domain/robot-types';
import type { RobotWorkflowInput, StepPolicy } from '../../core/domain/robot-workflow.contract';
import { ModuleNameKey, RobotStatusKey } from '../../core/domain/search-attributes';
import { awaited, type Flow } from './flow';
import type { RobotControls } from './robot-controls';
import { notifyRobotEvent } from './robot-notifications';
import type { SlaWatch } from './robot-sla';

// One robot run's state, shared by the workflow and its step runners, and the run's two calls to the
// control worker: recording progress and choosing a module. Deterministic: workflow APIs only.

/**
 * Selection and progress are short calls to Postgres/Redis from the control worker itself: local
 * activities, so each costs one marker in history instead of a task-queue round trip (three events
 * and usually a workflow task). Persistence must eventually succeed (Postgres may be restarting):
 * retry without a cap; past the threshold the backoff becomes a durable timer.
 */
const control = proxyLocalActivities<ControlActivities>({
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

const ROUTING_KEPT = 10;
const WAITS_PER_BACKOFF = 12;
const MAX_WAIT_SECONDS = 60;

export type Outputs = Record<string, Record<string, unknown>>;

export interface RecordExtra {
  output?: Record<string, unknown>;
  error?: string | null;
  stepOutcome?: StepOutcome;
  slaEvent?: 'at_risk' | 'missed';
}

type Circuit = Awaited<ReturnType<ControlActivities['recordProgress']>>['circuit'];
export type Recorder = (
  status: RobotStatus,
  extra?: RecordExtra,
) => Promise<{ processingTimeMs: number; circuit: Circuit }>;

/** A step from the moment it starts: it has a start time. */
export type RunningStep = StepProgress & { startedAt: string };

export interface RobotRun {
  readonly args: RobotWorkflowInput;
  readonly policy: StepPolicy;
  readonly progress: RobotProgress;
  /** The module step kinds of the robot type: what a module must offer to be chosen (one choice per run). */
  readonly moduleSteps: string[];
  /**
   * From PER_STEP_ROUTING_PATCH on: each module step is routed on its own, among the modules serving
   * its kind. Runs started before choose one module for all module kinds at the start.
   */
  readonly perStep: boolean;
  /** Each finished step's output, by step name. */
  readonly outputs: Outputs;
  /** The data steps work on: the input, plus fields corrected by reviewers at approval steps. */
  readonly data: Record<string, unknown>;
  /** Null for runs started before CONTROLS_PATCH. */
  readonly controls: RobotControls | null;
  /** Null without a deadline, or for runs started before SLA_PATCH. */
  readonly sla: SlaWatch | null;
  readonly record: Recorder;
  /**
   * Where module steps go; the first choice, then each failover, changes it. Routed per step: the
   * module of the current (or last) module step, '' before the first.
   */
  moduleName: string;
  /** Routed per step: the step routed before the run's first record, so it is not routed again. */
  routedAhead: string | null;
}

/** Writes the robot's progress (Postgres, Redis, search attributes) and tells subscribers. */
export class ProgressRecorder {
  // With SLA timers the watcher records too: one record at a time, so a later snapshot is never
  // overtaken by an earlier one in Postgres.
  private serial: Promise<unknown> | null = null;
  private readonly info = workflowInfo();

  constructor(
    private readonly progress: RobotProgress,
    private readonly input: Record<string, unknown>,
  ) {}

  readonly record: Recorder = (status, extra = {}) => {
    if (!this.serial) return this.recordNow(status, extra);
    const next = this.serial.then(() => this.recordNow(status, extra));
    this.serial = next.catch(() => undefined);
    return next;
  };

  /** From now on records queue behind each other (the SLA watcher records beside the step loop). */
  serialize(): void {
    this.serial = Promise.resolve();
  }

  private async recordNow(status: RobotStatus, extra: RecordExtra = {}) {
    const { progress } = this;
    progress.status = status;
    progress.sequence = (progress.sequence ?? 0) + 1;
    progress.stepsCompleted = progress.steps.filter((step) => step.status === 'completed').length;
    progress.percent = Math.round((progress.stepsCompleted / Math.max(1, progress.stepsTotal)) * 100);
    upsertSearchAttributes([
      { key: RobotStatusKey, value: status },
      ...(progress.moduleName ? [{ key: ModuleNameKey, value: progress.moduleName }] : []),
    ]);
    const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
    // Workflow time (Date.now in a workflow is the deterministic task time) from the run's start.
    const processingTimeMs = finished ? Date.now() - this.info.runStartTime.getTime() : undefined;
    const { circuit, notify } = await control.recordProgress({
      executionId: this.info.runId,
      progress,
      input: this.input,
      ...extra,
      ...(processingTimeMs !== undefined ? { processingTimeMs } : {}),
    });
    if (notify) {
      await notifyRobotEvent(notify, progress, this.info.runId, { processingTimeMs, error: extra.error });
    }
    return { processingTimeMs: processingTimeMs ?? 0, circuit };
  }
}

/** A step is done: its timing. */
export function markCompleted(state: RunningStep): void {
  state.status = 'completed';
  state.completedAt = new Date().toISOString();
  state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
}

/** A step is done: its timing, then the progress record (with the module's outcome after a module step). */
export function* completeStep(run: RobotRun, state: RunningStep, stepOutcome?: StepOutcome): Flow<void> {
  markCompleted(state);
  yield* awaited(run.record('running', stepOutcome ? { stepOutcome } : {}));
}

function remember(
  progress: RobotProgress,
  decision: StoredDecision,
  cause: StoredDecision['cause'],
  step?: string,
): void {
  const entry: StoredDecision = { ...decision, cause, ...(step ? { step } : {}) };
  // Repeated "still nothing eligible" answers replace each other instead of filling the list.
  const last = progress.routing.at(-1);
  if (cause === 'wait' && last?.cause === 'wait' && last.winner === null)
    progress.routing[progress.routing.length - 1] = entry;
  else progress.routing.push(entry);
  if (progress.routing.length > ROUTING_KEPT) progress.routing.shift();
}

/** What a module choice is for. */
export interface ModuleQuery {
  cause: 'initial' | 'failover';
  /** Modules that failed this step over (none for a first choice). */
  exclude: string[];
  /** The step: a failover's, and every choice when routed per step. */
  step?: StepDefinition;
  /** The module that ran the previous module step: kept while it is eligible (per step only). */
  prefer?: string;
}

/**
 * Picks a module; while none is eligible the robot waits as `pending`. It is never failed for that,
 * unless routed per step and its type sets `maxPendingSeconds`: then it fails once it has waited
 * that long (workflow time) for this step.
 */
export async function chooseModule(run: RobotRun, query: ModuleQuery): Promise<string> {
  const { args, progress } = run;
  const { cause, exclude, step } = query;
  const request = selectionRequest(run, query);
  let choice = await control.selectModule({ ...request, exclude });
  remember(progress, choice.decision, cause, step?.name);
  const limit = run.perStep && step ? args.definition.maxPendingSeconds : undefined;
  const deadline = Date.now() + (limit ?? 0) * 1000;
  for (let waits = 0; !choice.moduleName; waits++) {
    progress.reason = NO_ELIGIBLE_MODULE;
    // Record the wait once, then now and then: a long wait must not flood history or Postgres.
    if (waits % WAITS_PER_BACKOFF === 0) await run.record('pending');
    // Ask often at first, then back off (doubling every WAITS_PER_BACKOFF asks, capped).
    const backoff = 2 ** Math.floor(waits / WAITS_PER_BACKOFF);
    const seconds = Math.min(args.moduleWaitSeconds * backoff, MAX_WAIT_SECONDS);
    if (limit === undefined || !step) await sleep(`${seconds} seconds`);
    else {
      const left = deadline - Date.now();
      if (left <= 0) throw noLiveModule(step, limit);
      // The last wait ends at the limit, not up to a whole interval past it.
      await sleep(Math.min(seconds * 1000, left));
    }
    // After a wait, earlier exclusions lapse: a dead module's replicas have expired by now and a
    // restarted one may take the work again.
    choice = await control.selectModule({ ...request, exclude: [] });
    remember(progress, choice.decision, 'wait', step?.name);
  }
  // Routed per step, the memo changes only when the robot moves: one history event per move.
  if (!run.perStep || progress.moduleName !== choice.moduleName) upsertMemo({ module: choice.moduleName });
  progress.moduleName = choice.moduleName;
  progress.reason = `module ${choice.moduleName}: ${choice.decision.reason}`;
  return choice.moduleName;
}

/** One choice for the whole run (every module kind of the type), or per step (its kind only). */
function selectionRequest(run: RobotRun, { step, prefer }: ModuleQuery): Omit<SelectionRequest, 'exclude'> {
  const robotType = run.args.definition.name;
  if (!run.perStep || !step) return { robotType, steps: run.moduleSteps };
  return { robotType, steps: [step.kind], ...(prefer ? { prefer } : {}) };
}

function noLiveModule(step: StepDefinition, limit: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `no live module served step ${step.name} (kind ${step.kind}) within maxPendingSeconds=${limit}`,
    FAILURE_TYPES.noModule,
  );
}
