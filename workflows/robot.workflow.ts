import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ControlActivities, StepActivities } from '../activities/types';
import type { RobotProgress, RobotStatus, StepProgress } from '../core/robot';
import type { StepDefinition } from '../core/robot-types';
import { ModuleNameKey, RobotStatusKey } from '../core/search-attributes';
import { moduleTaskQueue } from '../core/task-queues';
import { progressQuery, type RobotWorkflowInput, type RobotWorkflowResult } from './robot.definitions';

/** Persistence must eventually succeed (Postgres may be restarting): retry without a cap. */
const persistence = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
} as const;

const control = proxyActivities<ControlActivities>(persistence);

function stepActivities(moduleName: string, step: StepDefinition): StepActivities {
  return proxyActivities<StepActivities>({
    taskQueue: moduleTaskQueue(moduleName),
    startToCloseTimeout: `${step.timeoutSeconds} seconds`,
    retry: { initialInterval: '1 second', maximumInterval: '20 seconds', maximumAttempts: 3 },
  });
}

function errorMessage(err: unknown): string {
  // Activity failures wrap the real reason in `cause`.
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(err);
}

export async function robotWorkflow(args: RobotWorkflowInput): Promise<RobotWorkflowResult> {
  const { robotId, definition, input, priority } = args;
  const { runId, runStartTime } = workflowInfo();
  const steps: StepProgress[] = definition.steps.map((step) => ({
    name: step.name,
    kind: step.kind,
    status: 'pending',
  }));
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
  };
  setHandler(progressQuery, () => progress);

  const outputs: Record<string, Record<string, unknown>> = {};

  const record = async (
    status: RobotStatus,
    extra: { output?: Record<string, unknown>; error?: string } = {},
  ) => {
    progress.status = status;
    progress.stepsCompleted = steps.filter((step) => step.status === 'completed').length;
    progress.percent = Math.round((progress.stepsCompleted / Math.max(1, progress.stepsTotal)) * 100);
    upsertSearchAttributes([
      { key: RobotStatusKey, value: status },
      ...(progress.moduleName ? [{ key: ModuleNameKey, value: progress.moduleName }] : []),
    ]);
    const finished = status === 'completed' || status === 'failed' || status === 'cancelled';
    // Workflow time (Date.now in a workflow is the deterministic task time) from the run's start.
    const processingTimeMs = finished ? Date.now() - runStartTime.getTime() : undefined;
    await control.recordProgress({
      executionId: runId,
      progress,
      input,
      ...extra,
      ...(processingTimeMs !== undefined ? { processingTimeMs } : {}),
    });
    return processingTimeMs ?? 0;
  };

  try {
    let choice = await control.selectModule({ robotType: definition.name });
    while (!choice) {
      progress.reason = 'no eligible module';
      await record('pending');
      await sleep(`${args.moduleWaitSeconds} seconds`);
      choice = await control.selectModule({ robotType: definition.name });
    }
    progress.moduleName = choice.moduleName;
    progress.reason = `module ${choice.moduleName}: ${choice.reason}`;
    upsertMemo({ module: choice.moduleName, candidates: choice.candidates });
    await record('running');

    for (const [index, step] of definition.steps.entries()) {
      const state = steps[index];
      if (!state) continue;
      progress.currentStep = step.name;
      state.status = 'running';
      state.moduleName = choice.moduleName;
      state.startedAt = new Date().toISOString();
      if (step.kind === 'delay') {
        await sleep(Number(step.params.ms ?? 1000));
        outputs[step.name] = { waitedMs: Number(step.params.ms ?? 1000) };
      } else {
        const activities = stepActivities(choice.moduleName, step);
        outputs[step.name] = await activities[step.kind]({ robotId, step, input, previous: outputs });
      }
      state.status = 'completed';
      state.completedAt = new Date().toISOString();
      state.durationMs = Date.parse(state.completedAt) - Date.parse(state.startedAt);
      await record('running');
    }

    progress.currentStep = null;
    progress.reason = undefined;
    const processingTimeMs = await record('completed', { output: outputs });
    log.info('robot completed', { robotId, moduleName: choice.moduleName, processingTimeMs });
    return { robotId, status: 'completed', moduleName: choice.moduleName, output: outputs, processingTimeMs };
  } catch (err) {
    const cancelled = isCancellation(err);
    const reason = cancelled ? 'cancelled' : errorMessage(err);
    const running = steps.find((step) => step.status === 'running');
    if (running) {
      running.status = 'failed';
      running.error = reason;
    }
    progress.reason = reason;
    // Record the outcome even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() =>
      record(cancelled ? 'cancelled' : 'failed', { error: reason, output: outputs }),
    );
    if (cancelled) throw err;
    throw ApplicationFailure.nonRetryable(reason, 'RobotFailed');
  }
}
