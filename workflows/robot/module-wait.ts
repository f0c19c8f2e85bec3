import { ApplicationFailure, condition, sleep } from '@temporalio/workflow';
import type { ModuleChoice } from '../../activities/types';
import { FAILURE_TYPES } from '../../core/domain/failure-types';
import { NO_ELIGIBLE_MODULE } from '../../core/domain/load-balancer';
import type { RobotProgress } from '../../core/domain/robot';
import type { StepDefinition } from '../../core/domain/robot-types';
import type { RobotControls } from './robot-controls';

// A step that found no eligible module waits for one as `pending` (ADR 0052). Deterministic:
// workflow time and timers only.

/**
 * From this patch on, a wait for a module serves a pause at once (the paused time does not count
 * against the type's maxPendingSeconds), and a robot failed by the limit says
 * `no eligible module within N s`. patched() is called only when a step finds no eligible module,
 * so runs that never wait carry no marker; runs that waited before it replay the earlier loop.
 */
export const PENDING_LIMIT_PATCH = 'pending-limit-v1';

/** A long wait records `pending` once every so many asks, and backs off after as many. */
export const WAITS_PER_BACKOFF = 12;
const MAX_WAIT_SECONDS = 60;

/** Seconds before ask number `waits` + 1: often at first, then doubling every WAITS_PER_BACKOFF asks, capped. */
export function waitSeconds(intervalSeconds: number, waits: number): number {
  const backoff = 2 ** Math.floor(waits / WAITS_PER_BACKOFF);
  return Math.min(intervalSeconds * backoff, MAX_WAIT_SECONDS);
}

/** A choice that found a module. */
export type Chosen = ModuleChoice & { moduleName: string };

export interface ModuleWait {
  readonly progress: RobotProgress;
  /** Null for runs started before the controls patch: nobody can pause them. */
  readonly controls: RobotControls | null;
  readonly record: (status: 'pending') => Promise<unknown>;
  /** Asks the control worker again and keeps the decision in the robot's routing. */
  readonly ask: () => Promise<ModuleChoice>;
  /** MODULE_WAIT_SECONDS of the run: the first interval between asks. */
  readonly intervalSeconds: number;
  /** The step waiting and its type's maxPendingSeconds; without a limit the wait has no end. */
  readonly limit?: { step: StepDefinition; seconds: number };
}

/**
 * Waits until some module is eligible and returns its choice. The limit's clock starts when the step
 * finds no eligible module (this call) and counts workflow time spent waiting: time paused by an
 * operator is left out. The last interval is cut to end at the limit; one last ask there, then the
 * robot fails with NoModule.
 */
export async function waitForModule(wait: ModuleWait): Promise<Chosen> {
  const { progress, controls, limit } = wait;
  let deadline = limit ? Date.now() + limit.seconds * 1000 : Number.POSITIVE_INFINITY;
  let sinceRecord = 0;
  for (let waits = 0; ; waits++) {
    progress.reason = NO_ELIGIBLE_MODULE;
    // Record the wait once, then now and then: a long wait must not flood history or Postgres.
    if (sinceRecord++ % WAITS_PER_BACKOFF === 0) await wait.record('pending');
    const ms = Math.min(waitSeconds(wait.intervalSeconds, waits) * 1000, deadline - Date.now());
    if (ms > 0 && (await waitOrPause(controls, ms)) && controls) {
      // The operator's pause takes effect now, not after the step: a step cannot start anyway.
      const pausedAt = Date.now();
      controls.waitingForModule = true;
      try {
        await controls.hold();
      } finally {
        controls.waitingForModule = false;
      }
      progress.reason = NO_ELIGIBLE_MODULE;
      await wait.record('pending');
      sinceRecord = 1;
      deadline += Date.now() - pausedAt;
    }
    // After a wait, earlier exclusions lapse: a dead module's replicas have expired by now and a
    // restarted one may take the work again.
    const choice = await wait.ask();
    if (choice.moduleName) return { ...choice, moduleName: choice.moduleName };
    if (limit && Date.now() >= deadline) throw noEligibleModule(limit.step, limit.seconds);
  }
}

/** Sleeps `ms`, or less when an operator asks for a pause: true then. */
async function waitOrPause(controls: RobotControls | null, ms: number): Promise<boolean> {
  if (!controls) {
    await sleep(ms);
    return false;
  }
  controls.waitingForModule = true;
  try {
    return await condition(() => controls.pausing, ms);
  } finally {
    controls.waitingForModule = false;
  }
}

/** The robot's reason and error when the limit ends its wait. */
export function noEligibleModule(step: StepDefinition, seconds: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `no eligible module within ${seconds} s for step ${step.name} (kind ${step.kind})`,
    FAILURE_TYPES.noModule,
  );
}
