import {
  ApplicationFailure,
  patched,
  proxyLocalActivities,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  AdvanceResult,
  ControlActivities,
  ModuleChoice,
  SelectionRequest,
  StepOutcome,
} from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import { NO_ELIGIBLE_MODULE } from '../../core/domain/load-balancer';
import type { RobotProgress, RobotStatus, StepProgress, StoredDecision } from '../../core/domain/robot';
import type { StepDefinition } from '../../core/domain/robot-types';
import type { RobotWorkflowInput, StepPolicy } from '../../core/domain/robot-workflow.contract';
import { ModuleNameKey, RobotStatusKey } from '../../core/domain/search-attributes';
import { isWorkflowStepKind } from '../../core/domain/step-kinds';
import { awaited, type Flow } from './flow';
import {
  type Chosen,
  PENDING_LIMIT_PATCH,
  WAITS_PER_BACKOFF,
  waitForModule,
  waitSeconds,
} from './module-wait';
import type { RobotControls } from './robot-controls';
import { notifyRobotEvent } from './robot-notifications';
import type { RobotPriorityControl } from './robot-priority';
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

/**
 * From this patch on (ADR 0046), a step's completion record and the next module step's routing go in
 * one local activity, and search attributes are upserted only when their value changes. Runs started
 * before recorded, then chose, in two, and upserted both attributes on every record: they replay so.
 */
export const LEAN_STEPS_PATCH = 'lean-steps-v1';

const ROUTING_KEPT = 10;

export type Outputs = Record<string, Record<string, unknown>>;

export interface RecordExtra {
  output?: Record<string, unknown>;
  error?: string | null;
  stepOutcome?: StepOutcome;
  slaEvent?: 'at_risk' | 'missed';
  /** Routes this module step in the same local activity as the record (LEAN_STEPS_PATCH). */
  next?: SelectionRequest;
}

type Circuit = Awaited<ReturnType<ControlActivities['recordProgress']>>['circuit'];
export type Recorder = (
  status: RobotStatus,
  extra?: RecordExtra,
) => Promise<{ processingTimeMs: number; circuit: Circuit; choice?: ModuleChoice }>;

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
  /** From LEAN_STEPS_PATCH on (routed per step too): a completed step's record routes the next step. */
  readonly lean: boolean;
  /** Each finished step's output, by step name. */
  readonly outputs: Outputs;
  /** The data steps work on: the input, plus fields corrected by reviewers at approval steps. */
  readonly data: Record<string, unknown>;
  /** Null for runs started before CONTROLS_PATCH. */
  readonly controls: RobotControls | null;
  /** An operator's new priority (reprioritize); null for runs started before CONTROLS_PATCH. */
  readonly priority: RobotPriorityControl | null;
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
  /** Search attribute values last upserted, by name; null: upsert both on every record (before LEAN_STEPS_PATCH). */
  private upserted: Map<string, string> | null = null;

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

  /** From now on a search attribute is upserted only when its value changes: each upsert is a history event. */
  upsertOnlyChanges(): void {
    this.upserted = new Map();
  }

  /** From now on records queue behind each other (the SLA watcher records beside the step loop). */
  serialize(): void {
    this.serial = Promise.resolve();
  }

  private async recordNow(status: RobotStatus, { next, ...extra }: RecordExtra = {}) {
    const { progress } = this;
    progress.status = status;
    progress.sequence = (progress.sequence ?? 0) + 1;
    progress.stepsCompleted = progress.steps.filter((step) => step.status === 'completed').length;
    progress.percent = Math.round((progress.stepsCompleted / Math.max(1, progress.stepsTotal)) * 100);
    this.upsertAttributes(status, progress.moduleName);
    const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
    // Workflow time (Date.now in a workflow is the deterministic task time) from the run's start.
    const processingTimeMs = finished ? Date.now() - this.info.runStartTime.getTime() : undefined;
    const record = {
      executionId: this.info.runId,
      progress,
      input: this.input,
      ...extra,
      ...(processingTimeMs !== undefined ? { processingTimeMs } : {}),
    };
    const answer: AdvanceResult = next
      ? await control.advanceRobot({ record, next })
      : await control.recordProgress(record);
    const { circuit, notify, choice } = answer;
    if (notify) {
      await notifyRobotEvent(notify, progress, this.info.runId, { processingTimeMs, error: extra.error });
    }
    return { processingTimeMs: processingTimeMs ?? 0, circuit, ...(choice ? { choice } : {}) };
  }

  private upsertAttributes(status: RobotStatus, moduleName: string | null): void {
    const values = [
      { key: RobotStatusKey, value: status },
      ...(moduleName ? [{ key: ModuleNameKey, value: moduleName }] : []),
    ];
    const { upserted } = this;
    const changed = upserted ? values.filter(({ key, value }) => upserted.get(key.name) !== value) : values;
    if (changed.length === 0) return;
    upsertSearchAttributes(changed);
    for (const { key, value } of changed) upserted?.set(key.name, value);
  }
}

/** A step is done: its timing. */
export function markCompleted(state: RunningStep): void {
  state.status = 'completed';
  state.completedAt = new Date().toISOString();
  state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
}

/**
 * A step is done: its timing, then the progress record (with the module's outcome after a module
 * step). From LEAN_STEPS_PATCH on, the same local activity routes the next step when it runs on a
 * module; without an eligible module the step is routed again when it starts, and waits there.
 */
export function* completeStep(run: RobotRun, state: RunningStep, stepOutcome?: StepOutcome): Flow<void> {
  markCompleted(state);
  const next = run.lean ? nextModuleStep(run, state) : undefined;
  const prefer = run.moduleName || undefined;
  const request = next ? selectionRequest(run, { cause: 'initial', exclude: [], step: next, prefer }) : null;
  const { choice } = yield* awaited(
    run.record('running', {
      ...(stepOutcome ? { stepOutcome } : {}),
      ...(request ? { next: { ...request, exclude: [] } } : {}),
    }),
  );
  if (!next || !choice?.moduleName) return;
  remember(run.progress, choice.decision, 'initial', next.name);
  run.moduleName = adoptChoice(run, choice.moduleName, choice.decision);
  run.routedAhead = next.name;
}

/** The step after `state`, when it runs on a module. */
function nextModuleStep(run: RobotRun, state: RunningStep): StepDefinition | undefined {
  const index = run.progress.steps.indexOf(state);
  const next = index < 0 ? undefined : run.args.definition.steps[index + 1];
  return next && !isWorkflowStepKind(next.kind) ? next : undefined;
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
 * Picks a module; while none is eligible the robot waits as `pending` (module-wait.ts). It is never
 * failed for that, unless routed per step and its type sets `maxPendingSeconds`: then it fails once
 * the step has waited that long (workflow time).
 */
export async function chooseModule(run: RobotRun, query: ModuleQuery): Promise<string> {
  const { args, progress, controls } = run;
  const { cause, exclude, step } = query;
  const request = selectionRequest(run, query);
  const first = await control.selectModule({ ...request, exclude });
  remember(progress, first.decision, cause, step?.name);
  if (first.moduleName) return adoptChoice(run, first.moduleName, first.decision);
  const seconds = run.perStep && step ? args.definition.maxPendingSeconds : undefined;
  let choice: Chosen;
  if (!patched(PENDING_LIMIT_PATCH)) choice = await waitAsBefore(run, request, step, seconds);
  else {
    choice = await waitForModule({
      progress,
      controls,
      record: (status) => run.record(status),
      ask: async () => {
        const next = await control.selectModule({ ...request, exclude: [] });
        remember(progress, next.decision, 'wait', step?.name);
        return next;
      },
      intervalSeconds: args.moduleWaitSeconds,
      ...(step && seconds !== undefined ? { limit: { step, seconds } } : {}),
    });
  }
  return adoptChoice(run, choice.moduleName, choice.decision);
}

/**
 * The wait of runs that found no module before PENDING_LIMIT_PATCH: a pause waits for the step, and
 * the limit's failure names maxPendingSeconds. Kept as it was so their histories replay.
 */
async function waitAsBefore(
  run: RobotRun,
  request: Omit<SelectionRequest, 'exclude'>,
  step: StepDefinition | undefined,
  limit: number | undefined,
): Promise<Chosen> {
  const { args, progress } = run;
  const deadline = Date.now() + (limit ?? 0) * 1000;
  for (let waits = 0; ; waits++) {
    progress.reason = NO_ELIGIBLE_MODULE;
    // Record the wait once, then now and then: a long wait must not flood history or Postgres.
    if (waits % WAITS_PER_BACKOFF === 0) await run.record('pending');
    const seconds = waitSeconds(args.moduleWaitSeconds, waits);
    if (limit === undefined || !step) await sleep(`${seconds} seconds`);
    else {
      const left = deadline - Date.now();
      if (left <= 0) throw noLiveModule(step, limit);
      // The last wait ends at the limit, not up to a whole interval past it.
      await sleep(Math.min(seconds * 1000, left));
    }
    const choice = await control.selectModule({ ...request, exclude: [] });
    remember(progress, choice.decision, 'wait', step?.name);
    if (choice.moduleName) return { ...choice, moduleName: choice.moduleName };
  }
}

/** The robot goes to the chosen module: the memo (when it moves), its module and why. */
function adoptChoice(run: RobotRun, moduleName: string, decision: StoredDecision): string {
  const { progress } = run;
  // Routed per step, the memo changes only when the robot moves: one history event per move.
  if (!run.perStep || progress.moduleName !== moduleName) upsertMemo({ module: moduleName });
  progress.moduleName = moduleName;
  progress.reason = `module ${moduleName}: ${decision.reason}`;
  return moduleName;
}

/** One choice for the whole run (every module kind of the type), or per step (its kind only). */
function selectionRequest(run: RobotRun, { step, prefer }: ModuleQuery): Omit<SelectionRequest, 'exclude'> {
  const robotType = run.args.definition.name;
  if (!run.perStep || !step) return { robotType, steps: run.moduleSteps };
  return { robotType, steps: [step.kind], ...(prefer ? { prefer } : {}) };
}

/** The limit's failure before PENDING_LIMIT_PATCH. */
function noLiveModule(step: StepDefinition, limit: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `no live module served step ${step.name} (kind ${step.kind}) within maxPendingSeconds=${limit}`,
    FAILURE_TYPES.noModule,
  );
}
