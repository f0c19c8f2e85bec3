import { isCancellation, log, patched, sleep } from '@temporalio/workflow';
import type { StepOutcome } from '../../activities/types';
import type { StepDefinition } from '../../core/domain/robot-types';
import { DEFAULT_PARK_TIMEOUT_MS } from '../../core/domain/robot-workflow.contract';
import { isWorkflowStepKind } from '../../core/domain/step-kinds';
import { awaited, type Flow } from './flow';
import { chooseModule, completeStep, markCompleted, type RobotRun, type RunningStep } from './robot-run';
import {
  businessFailure,
  checkRequiredOutputs,
  errorMessage,
  notPickedUp,
  stepActivities,
  workerLost,
} from './step-dispatch';

// A step that runs on a module (every kind but delay, approval and notify): its routing and failover.

/**
 * From this patch on, a step whose worker went silent on its last attempt fails over like an outage
 * instead of parking the robot (ADR 0036): replicas killed one after another could otherwise use up
 * a step's attempts. Before it, such a step parked the robot; those histories replay unchanged.
 */
export const WORKER_LOST_PATCH = 'worker-lost-failover-v1';
/**
 * A step whose workers go silent this many times is parked after all: a step that hangs without
 * heartbeating looks like a dead worker, and must not move from module to module forever.
 */
export const WORKER_LOSSES_BEFORE_PARK = 10;

/**
 * Runs the step on the run's module (routed per step: the module chosen for the step) until one
 * completes it. Its result is the step's outcome when it is the robot's last step: that outcome goes
 * with the completion record, one write fewer per robot.
 */
export function* runOnModule(
  run: RobotRun,
  step: StepDefinition,
  state: RunningStep,
  last: boolean,
): Flow<StepOutcome | undefined> {
  const { kind } = step;
  const excluded: string[] = [];
  const losses = { count: 0 };
  if (run.perStep) yield* routeStep(run, step, state);
  for (;;) {
    state.moduleName = run.moduleName;
    const started = Date.now();
    try {
      const dispatch = stepActivities(
        run.moduleName,
        step,
        run.policy,
        run.sla?.priorityKey ?? run.priority?.priorityKey,
      )[kind];
      if (!dispatch) throw new Error(`no activity for step kind ${kind}`);
      run.outputs[step.name] = yield* awaited(
        dispatch({ robotId: run.args.robotId, step, input: run.data, previous: run.outputs }),
      );
    } catch (err) {
      if (businessFailure(err) || isCancellation(err)) throw err;
      yield* recover(run, step, state, err, { started, excluded, losses });
      continue;
    }
    checkRequiredOutputs(step, run.outputs[step.name] ?? {});
    const outcome: StepOutcome = { moduleName: run.moduleName, ok: true, latencyMs: Date.now() - started };
    if (last) {
      markCompleted(state);
      return outcome;
    }
    yield* completeStep(run, state, outcome);
    return undefined;
  }
}

/**
 * Routed per step, a run whose first step runs on a module chooses that module before the run's
 * first record, as the single choice did: from its first `running` record the robot shows its
 * module and why. (Later steps' choices are recorded when they complete: no record more per step.)
 */
export function* routeFirstStep(run: RobotRun, index: number): Flow<void> {
  const step = run.args.definition.steps[index];
  if (!step || isWorkflowStepKind(step.kind)) return;
  run.moduleName = yield* awaited(chooseModule(run, { cause: 'initial', exclude: [], step }));
  run.routedAhead = step.name;
}

/**
 * Chooses the step's module among those serving its kind; the previous module step's module is
 * kept while it is eligible, so consecutive steps stay together.
 */
function* routeStep(run: RobotRun, step: StepDefinition, state: RunningStep): Flow<void> {
  if (run.routedAhead === step.name) {
    run.routedAhead = null;
    return;
  }
  const prefer = run.moduleName || undefined;
  run.moduleName = yield* awaited(chooseModule(run, { cause: 'initial', exclude: [], step, prefer }));
  if (run.progress.status !== 'pending') return;
  // It waited for a module: it runs again, and the step starts now, not when the wait began.
  state.startedAt = new Date().toISOString();
  yield* awaited(run.record('running'));
}

/**
 * The module failed the step (or never took it): count it against the module, then either park the
 * robot (the step failed on a healthy module) or move the step to another module (an outage).
 */
function* recover(
  run: RobotRun,
  step: StepDefinition,
  state: RunningStep,
  err: unknown,
  attempt: { started: number; excluded: string[]; losses: { count: number } },
): Flow<void> {
  const { progress, policy, args } = run;
  const { excluded } = attempt;
  const { circuit } = yield* awaited(
    run.record('running', {
      stepOutcome: { moduleName: run.moduleName, ok: false, latencyMs: Date.now() - attempt.started },
    }),
  );
  if (!notPickedUp(err) && circuit !== 'open' && !lostWorkerToFailOver(err, attempt.losses)) {
    // Not an outage: the step itself failed after its retries. Park (from CONTROLS_PATCH on).
    if (!run.controls) throw err;
    yield* awaited(
      run.controls.park(state, errorMessage(err), args.parkTimeoutMs ?? DEFAULT_PARK_TIMEOUT_MS),
    );
    return;
  }
  if (excluded.length >= policy.maxFailoversPerStep) {
    // Every module was tried: wait, then start over. A robot is never failed for lack of capacity.
    excluded.length = 0;
    progress.reason = `no module completed step ${step.name} (${errorMessage(err)}); retrying`;
    yield* awaited(run.record('pending'));
    yield* awaited(sleep(`${args.moduleWaitSeconds} seconds`));
  }
  excluded.push(run.moduleName);
  progress.retryCount += 1;
  log.warn('failing over', {
    robotId: args.robotId,
    step: step.name,
    from: run.moduleName,
    reason: errorMessage(err),
  });
  run.moduleName = yield* awaited(chooseModule(run, { cause: 'failover', exclude: excluded, step }));
  yield* awaited(run.record('running'));
}

/** A silent worker counts as an outage, up to WORKER_LOSSES_BEFORE_PARK times per step. */
function lostWorkerToFailOver(err: unknown, losses: { count: number }): boolean {
  // patched() only on such a failure: histories without one get no marker.
  if (!workerLost(err) || losses.count >= WORKER_LOSSES_BEFORE_PARK || !patched(WORKER_LOST_PATCH))
    return false;
  losses.count += 1;
  return true;
}
