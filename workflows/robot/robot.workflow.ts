import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  setHandler,
} from '@temporalio/workflow';
import type { StepOutcome } from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import type { RobotProgress, StepProgress } from '../../core/domain/robot';
import {
  DEFAULT_APPROVAL_WAITS,
  DEFAULT_STEP_POLICY,
  type RobotWorkflowInput,
  type RobotWorkflowResult,
} from '../../core/domain/robot-workflow.contract';
import { moduleStepKinds } from '../../core/domain/step-kinds';
import { awaited, drive, type Flow } from './flow';
import { routeFirstStep } from './module-step';
import { progressQuery } from './robot.definitions';
import { RobotControls } from './robot-controls';
import { RobotPriorityControl } from './robot-priority';
import { chooseModule, LEAN_STEPS_PATCH, type Outputs, ProgressRecorder, type RobotRun } from './robot-run';
import { SLA_PATCH, SlaWatch } from './robot-sla';
import { errorMessage } from './step-dispatch';
import { runStep } from './step-runners';

/**
 * Pause/resume, parking and approvals change the commands a run issues: runs started before them
 * replay without (no marker in their history), runs started after get them.
 */
export const CONTROLS_PATCH = 'robot-controls-v1';

/**
 * Each module step is routed on its own, among the modules serving its kind (the previous step's
 * module kept while eligible). Runs started before chose one module for every module kind at the
 * start, so a robot mixing kinds served by different modules waited forever; they replay that way.
 */
export const PER_STEP_ROUTING_PATCH = 'per-step-routing-v1';

export function robotWorkflow(args: RobotWorkflowInput): Promise<RobotWorkflowResult> {
  return drive(runRobot(args));
}

/** Setup, the step loop, and the completion or failure record. */
function* runRobot(args: RobotWorkflowInput): Flow<RobotWorkflowResult> {
  const { robotId, definition } = args;
  const run = startRun(args);
  const { progress, outputs, data, controls, sla } = run;
  const approvalWaits = args.approval ?? DEFAULT_APPROVAL_WAITS;

  try {
    // Routed per step, each module step chooses its module when it starts (module-step.ts); the
    // first one before the robot is first recorded running, as the single choice was.
    if (!run.perStep) run.moduleName = yield* awaited(chooseModule(run, { cause: 'initial', exclude: [] }));
    else yield* routeFirstStep(run, args.resumeFrom?.stepIndex ?? 0);
    let lastOutcome: StepOutcome | undefined;
    yield* awaited(run.record('running'));

    for (const [index, step] of definition.steps.entries()) {
      const state = progress.steps[index];
      if (!state || (args.resumeFrom && index < args.resumeFrom.stepIndex)) continue;
      const sequence = progress.sequence;
      yield* awaited(controls?.gate());
      // Past the deadline a person decides before the next step; an approval step is that person.
      if (sla && controls && step.kind !== 'approval') {
        const verdict = yield* awaited(sla.review(controls, step, data, outputs, approvalWaits));
        if (verdict?.fields) Object.assign(data, verdict.fields);
      }
      // The robot was held (paused, reviewed) since its module was chosen: choose again when it starts.
      if (run.lean && progress.sequence !== sequence) run.routedAhead = null;
      progress.currentStep = step.name;
      const started = Object.assign(state, {
        status: 'running' as const,
        startedAt: new Date().toISOString(),
      });
      lastOutcome = yield* runStep(run, step, started, index === definition.steps.length - 1);
    }

    progress.currentStep = null;
    progress.reason = undefined;
    sla?.finish(true);
    const { processingTimeMs } = yield* awaited(
      run.record('completed', { output: outputs, ...(lastOutcome ? { stepOutcome: lastOutcome } : {}) }),
    );
    const { moduleName } = run;
    log.info('robot completed', { robotId, moduleName, processingTimeMs });
    return { robotId, status: 'completed', moduleName, output: outputs, processingTimeMs };
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'cancelled' : errorMessage(err);
    // A robot failed waiting for a module for its first step, which is routed before it starts:
    // that step is the one that failed.
    const running =
      progress.steps.find((step) => step.status === 'running') ??
      (isNoModule(err) ? progress.steps.find((step) => step.status === 'pending') : undefined);
    if (running) {
      running.status = 'failed';
      running.error = reason;
    }
    progress.reason = reason;
    sla?.finish(false);
    // Record the outcome even when the workflow itself is being cancelled.
    yield* awaited(
      CancellationScope.nonCancellable(() =>
        run.record(cancelled ? 'cancelled' : 'failed', { error: reason, output: outputs }),
      ),
    );
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(reason, ownFailureType(err));
  }
}

/** The robot fails as RobotFailed, or as NoModule when no live module came for a step in time. */
function ownFailureType(err: unknown): string {
  return isNoModule(err) ? FAILURE_TYPES.noModule : FAILURE_TYPES.robotFailed;
}

function isNoModule(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === FAILURE_TYPES.noModule;
}

/** Setup: the progress the `progress` query answers, a retry's earlier results, controls and SLA. */
function startRun(args: RobotWorkflowInput): RobotRun {
  const progress = initialProgress(args);
  setHandler(progressQuery, () => progress);
  const { outputs, data } = resumedState(args, progress.steps);
  const recorder = new ProgressRecorder(progress, args.input);
  const controls = patched(CONTROLS_PATCH) ? new RobotControls(progress, recorder.record) : null;
  controls?.install();
  const priority = controls ? new RobotPriorityControl(progress) : null;
  priority?.install();
  const sla =
    args.sla && controls && patched(SLA_PATCH)
      ? new SlaWatch(Object.assign(progress, { sla: { ...args.sla } }), recorder.record)
      : null;
  if (sla) {
    recorder.serialize();
    sla.start();
  }
  const perStep = patched(PER_STEP_ROUTING_PATCH);
  const lean = perStep && patched(LEAN_STEPS_PATCH);
  if (lean) recorder.upsertOnlyChanges();
  return {
    args,
    policy: args.stepPolicy ?? DEFAULT_STEP_POLICY,
    progress,
    moduleSteps: moduleStepKinds(args.definition.steps),
    perStep,
    lean,
    outputs,
    data,
    controls,
    priority,
    sla,
    record: recorder.record,
    // Chosen first thing in the run, before any step; routed per step, by each module step.
    moduleName: '',
    routedAhead: null,
  };
}

function initialProgress(args: RobotWorkflowInput): RobotProgress {
  const steps: StepProgress[] = args.definition.steps.map((step) => ({
    name: step.name,
    kind: step.kind,
    status: 'pending',
  }));
  return {
    robotId: args.robotId,
    robotType: args.definition.name,
    status: 'queued',
    priority: args.priority,
    moduleName: null,
    currentStep: null,
    stepsCompleted: 0,
    stepsTotal: steps.length,
    percent: 0,
    steps,
    retryCount: 0,
    routing: [],
  };
}

/** A retry of a failed robot: the steps before the failed one are done; keep their results. */
function resumedState(
  args: RobotWorkflowInput,
  steps: StepProgress[],
): { outputs: Outputs; data: Record<string, unknown> } {
  const outputs: Outputs = {};
  const data: Record<string, unknown> = { ...args.input };
  const resume = args.resumeFrom;
  if (!resume) return { outputs, data };
  for (const [index, earlier] of resume.steps.entries()) {
    if (index < resume.stepIndex && steps[index]) steps[index] = { ...earlier, status: 'completed' };
  }
  Object.assign(outputs, resume.outputs);
  // The reviewers' corrections at earlier approval steps are part of the data.
  for (const step of args.definition.steps.slice(0, resume.stepIndex)) {
    const fields = step.kind === 'approval' ? outputs[step.name]?.fields : undefined;
    if (fields && typeof fields === 'object') Object.assign(data, fields);
  }
  return { outputs, data };
}
