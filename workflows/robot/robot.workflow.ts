import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, StepOutcome } from '../../activities/types';
import { NO_ELIGIBLE_MODULE } from '../../core/load-balancer';
import type { RobotProgress, RobotStatus, StepProgress, StoredDecision } from '../../core/robot';
import { DEFAULT_APPROVAL_WAITS, DEFAULT_PARK_TIMEOUT_MS } from '../../core/robot-workflow';
import { ModuleNameKey, RobotStatusKey } from '../../core/search-attributes';
import { moduleStepKinds, type StepKind } from '../../core/step-kinds';
import {
  DEFAULT_STEP_POLICY,
  progressQuery,
  type RobotWorkflowInput,
  type RobotWorkflowResult,
} from './robot.definitions';
import { RobotControls } from './robot-controls';
import { notifyRobotEvent } from './robot-notifications';
import { SLA_PATCH, SlaWatch } from './robot-sla';
import {
  businessFailure,
  checkRequiredOutputs,
  errorMessage,
  notPickedUp,
  stepActivities,
} from './step-dispatch';
import { applyReviewCorrections, approvalNotNeeded, runNotifyStep } from './step-extras';

/**
 * Pause/resume, parking and approvals change the commands a run issues: runs started before them
 * replay without (no marker in their history), runs started after get them.
 */
export const CONTROLS_PATCH = 'robot-controls-v1';

type ModuleStepKind = Exclude<StepKind, 'delay' | 'approval' | 'notify'>;

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

export async function robotWorkflow(args: RobotWorkflowInput): Promise<RobotWorkflowResult> {
  const { robotId, definition, input, priority } = args;
  const policy = args.stepPolicy ?? DEFAULT_STEP_POLICY;
  const { runId, runStartTime } = workflowInfo();
  const steps: StepProgress[] = definition.steps.map((step) => ({
    name: step.name,
    kind: step.kind,
    status: 'pending',
  }));
  const moduleSteps = moduleStepKinds(definition.steps);
  const progress: RobotProgress = {
    robotId,
    robotType: definition.name,
    status: 'queued',
    priority,
    moduleName: null,
    currentStep: null,
    stepsCompleted: 0,
    stepsTotal: steps.length,
    percent: 0,
    steps,
    retryCount: 0,
    routing: [],
  };
  setHandler(progressQuery, () => progress);

  const outputs: Record<string, Record<string, unknown>> = {};
  // The data steps work on: the input, plus fields corrected by reviewers at approval steps.
  const data: Record<string, unknown> = { ...input };
  const resume = args.resumeFrom;
  if (resume) {
    // A retry of a failed robot: the steps before the failed one are done; keep their results.
    for (const [index, earlier] of resume.steps.entries()) {
      if (index < resume.stepIndex && steps[index]) steps[index] = { ...earlier, status: 'completed' };
    }
    Object.assign(outputs, resume.outputs);
    for (const step of definition.steps.slice(0, resume.stepIndex)) {
      const fields = step.kind === 'approval' ? outputs[step.name]?.fields : undefined;
      if (fields && typeof fields === 'object') Object.assign(data, fields);
    }
  }

  type RecordExtra = {
    output?: Record<string, unknown>;
    error?: string | null;
    stepOutcome?: StepOutcome;
    slaEvent?: 'at_risk' | 'missed';
  };
  const recordNow = async (status: RobotStatus, extra: RecordExtra = {}) => {
    progress.status = status;
    progress.sequence = (progress.sequence ?? 0) + 1;
    progress.stepsCompleted = steps.filter((step) => step.status === 'completed').length;
    progress.percent = Math.round((progress.stepsCompleted / Math.max(1, progress.stepsTotal)) * 100);
    upsertSearchAttributes([
      { key: RobotStatusKey, value: status },
      ...(progress.moduleName ? [{ key: ModuleNameKey, value: progress.moduleName }] : []),
    ]);
    const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
    // Workflow time (Date.now in a workflow is the deterministic task time) from the run's start.
    const processingTimeMs = finished ? Date.now() - runStartTime.getTime() : undefined;
    const { circuit, notify } = await control.recordProgress({
      executionId: runId,
      progress,
      input,
      ...extra,
      ...(processingTimeMs !== undefined ? { processingTimeMs } : {}),
    });
    if (notify) await notifyRobotEvent(notify, progress, runId, { processingTimeMs, error: extra.error });
    return { processingTimeMs: processingTimeMs ?? 0, circuit };
  };
  // With SLA timers the watcher records too: one record at a time, so a later snapshot is never
  // overtaken by an earlier one in Postgres.
  let serial: Promise<unknown> | null = null;
  const record = (status: RobotStatus, extra: RecordExtra = {}) => {
    if (!serial) return recordNow(status, extra);
    const next = serial.then(() => recordNow(status, extra));
    serial = next.catch(() => undefined);
    return next;
  };

  const controls = patched(CONTROLS_PATCH) ? new RobotControls(progress, record) : null;
  controls?.install();

  const sla =
    args.sla && controls && patched(SLA_PATCH)
      ? new SlaWatch(Object.assign(progress, { sla: { ...args.sla } }), record)
      : null;
  if (sla) {
    serial = Promise.resolve();
    sla.start();
  }

  const remember = (decision: StoredDecision, cause: StoredDecision['cause'], step?: string) => {
    const entry: StoredDecision = { ...decision, cause, ...(step ? { step } : {}) };
    // Repeated "still nothing eligible" answers replace each other instead of filling the list.
    const last = progress.routing.at(-1);
    if (cause === 'wait' && last?.cause === 'wait' && last.winner === null)
      progress.routing[progress.routing.length - 1] = entry;
    else progress.routing.push(entry);
    if (progress.routing.length > ROUTING_KEPT) progress.routing.shift();
  };

  /** Picks a module; while none is eligible the robot waits as `pending` — never failed for that. */
  const choose = async (exclude: string[], cause: 'initial' | 'failover', step?: string): Promise<string> => {
    let choice = await control.selectModule({ robotType: definition.name, steps: moduleSteps, exclude });
    remember(choice.decision, cause, step);
    for (let waits = 0; !choice.moduleName; waits++) {
      progress.reason = NO_ELIGIBLE_MODULE;
      // Record the wait once, then now and then: a long wait must not flood history or Postgres.
      if (waits % WAITS_PER_BACKOFF === 0) await record('pending');
      // Ask often at first, then back off (doubling every WAITS_PER_BACKOFF asks, capped).
      const backoff = 2 ** Math.floor(waits / WAITS_PER_BACKOFF);
      await sleep(`${Math.min(args.moduleWaitSeconds * backoff, MAX_WAIT_SECONDS)} seconds`);
      // After a wait, earlier exclusions lapse: a dead module's replicas have expired by now and a
      // restarted one may take the work again.
      choice = await control.selectModule({ robotType: definition.name, steps: moduleSteps, exclude: [] });
      remember(choice.decision, 'wait', step);
    }
    progress.moduleName = choice.moduleName;
    progress.reason = `module ${choice.moduleName}: ${choice.decision.reason}`;
    upsertMemo({ module: choice.moduleName });
    return choice.moduleName;
  };

  try {
    let moduleName = await choose([], 'initial');
    let lastOutcome: StepOutcome | undefined;
    await record('running');

    for (const [index, step] of definition.steps.entries()) {
      const state = steps[index];
      if (!state || (resume && index < resume.stepIndex)) continue;
      await controls?.gate();
      // Past the deadline a person decides before the next step; an approval step is that person.
      if (sla && controls && step.kind !== 'approval') {
        const verdict = await sla.review(
          controls,
          step,
          data,
          outputs,
          args.approval ?? DEFAULT_APPROVAL_WAITS,
        );
        if (verdict?.fields) Object.assign(data, verdict.fields);
      }
      progress.currentStep = step.name;
      state.status = 'running';
      state.startedAt = new Date().toISOString();
      if (step.kind === 'delay') {
        await sleep(Number(step.params.ms ?? 1000));
        outputs[step.name] = { waitedMs: Number(step.params.ms ?? 1000) };
        state.status = 'completed';
        state.completedAt = new Date().toISOString();
        state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
        await record('running');
        continue;
      }
      if (step.kind === 'notify') {
        outputs[step.name] = await runNotifyStep(robotId, definition.name, step, data, outputs);
        state.status = 'completed';
        state.completedAt = new Date().toISOString();
        state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
        await record('running');
        continue;
      }
      const notNeeded = step.kind === 'approval' ? approvalNotNeeded(step, outputs) : null;
      if (notNeeded !== null) {
        // Its `when` does not hold: nobody needs to look, the robot goes on.
        outputs[step.name] = { reviewed: false, reason: notNeeded };
        state.status = 'completed';
        state.completedAt = state.startedAt;
        state.durationMs = 0;
        continue;
      }
      if (step.kind === 'approval') {
        if (!controls)
          throw ApplicationFailure.nonRetryable('approval steps need a newer worker', 'Unsupported');
        const verdict = await controls.awaitApproval(
          step,
          state,
          data,
          outputs,
          args.approval ?? DEFAULT_APPROVAL_WAITS,
        );
        if (verdict.fields) Object.assign(data, verdict.fields);
        applyReviewCorrections(step, verdict.fields, outputs);
        sla?.reviewed();
        outputs[step.name] = {
          approved: true,
          escalated: verdict.escalated,
          ...(verdict.fields ? { fields: verdict.fields } : {}),
          ...(verdict.comment !== undefined ? { comment: verdict.comment } : {}),
        };
        state.status = 'completed';
        state.completedAt = new Date().toISOString();
        state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
        await record('running');
        continue;
      }
      const kind = step.kind as ModuleStepKind;

      const excluded: string[] = [];
      for (;;) {
        state.moduleName = moduleName;
        const started = Date.now();
        try {
          outputs[step.name] = await stepActivities(moduleName, step, policy, sla?.priorityKey)[kind]({
            robotId,
            step,
            input: data,
            previous: outputs,
          });
        } catch (err) {
          if (businessFailure(err) || isCancellation(err)) throw err;
          // The module failed the step (or never took it): count it against the module.
          const { circuit } = await record('running', {
            stepOutcome: { moduleName, ok: false, latencyMs: Date.now() - started },
          });
          if (!notPickedUp(err) && circuit !== 'open') {
            // Not an outage: the step itself failed after its retries. Park (from CONTROLS_PATCH on).
            if (!controls) throw err;
            await controls.park(state, errorMessage(err), args.parkTimeoutMs ?? DEFAULT_PARK_TIMEOUT_MS);
            continue;
          }
          if (excluded.length >= policy.maxFailoversPerStep) {
            // Every module was tried: wait, then start over. A robot is never failed for lack of capacity.
            excluded.length = 0;
            progress.reason = `no module completed step ${step.name} (${errorMessage(err)}); retrying`;
            await record('pending');
            await sleep(`${args.moduleWaitSeconds} seconds`);
          }
          excluded.push(moduleName);
          progress.retryCount += 1;
          log.warn('failing over', { robotId, step: step.name, from: moduleName, reason: errorMessage(err) });
          moduleName = await choose(excluded, 'failover', step.name);
          await record('running');
          continue;
        }
        checkRequiredOutputs(step, outputs[step.name] ?? {});
        state.status = 'completed';
        state.completedAt = new Date().toISOString();
        state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
        const outcome: StepOutcome = { moduleName, ok: true, latencyMs: Date.now() - started };
        // The last step's outcome goes with the completion record: one write fewer per robot.
        if (index === definition.steps.length - 1) lastOutcome = outcome;
        else await record('running', { stepOutcome: outcome });
        break;
      }
    }

    progress.currentStep = null;
    progress.reason = undefined;
    sla?.finish(true);
    const { processingTimeMs } = await record('completed', {
      output: outputs,
      ...(lastOutcome ? { stepOutcome: lastOutcome } : {}),
    });
    log.info('robot completed', { robotId, moduleName, processingTimeMs });
    return { robotId, status: 'completed', moduleName, output: outputs, processingTimeMs };
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'cancelled' : errorMessage(err);
    const running = steps.find((step) => step.status === 'running');
    if (running) {
      running.status = 'failed';
      running.error = reason;
    }
    progress.reason = reason;
    sla?.finish(false);
    // Record the outcome even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() =>
      record(cancelled ? 'cancelled' : 'failed', { error: reason, output: outputs }),
    );
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(reason, 'RobotFailed');
  }
}
