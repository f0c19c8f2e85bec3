import type { RobotPriority, RobotStatus, StepProgress } from './robot';
import type { RobotTypeDefinition } from './robot-types';
import { RobotPriorityKey, RobotStatusKey, RobotTypeKey } from './search-attributes';
import type { RobotSla } from './sla';

// The robot workflow's contract, below both sides: how it is started (the API's creation, the
// reconciler's restarts) and what its updates carry. The query and update handles themselves are in
// workflows/robot.definitions.ts.

export const ROBOT_WORKFLOW = 'robotWorkflow';

export interface StepPolicy {
  /** A step not picked up by the module within this time is re-dispatched elsewhere. */
  pickupTimeoutSeconds: number;
  /** A running step that stops heartbeating this long is retried (its worker died). */
  heartbeatTimeoutSeconds: number;
  /** Re-dispatches of one step before the robot pauses (pending) and tries every module again. */
  maxFailoversPerStep: number;
}

export const DEFAULT_STEP_POLICY: StepPolicy = {
  pickupTimeoutSeconds: 20,
  heartbeatTimeoutSeconds: 10,
  maxFailoversPerStep: 5,
};

export interface RobotWorkflowInput {
  robotId: string;
  /** Snapshot of the robot type at start: later changes to the type never affect this run. */
  definition: RobotTypeDefinition;
  input: Record<string, unknown>;
  priority: RobotPriority;
  /** How long to wait before asking again when no module is eligible. */
  moduleWaitSeconds: number;
  /** Failover timing, from configuration at start (workflows read no environment). */
  stepPolicy?: StepPolicy;
  /** How long a robot parked after a failed step waits for resume before it fails (ROBOT_PARK_TIMEOUT). */
  parkTimeoutMs?: number;
  /** Default waits of approval steps (APPROVAL_TIMEOUT, APPROVAL_ESCALATION_TIMEOUT); step params override. */
  approval?: { timeoutMs: number; escalationMs: number };
  /** A retry of a failed robot: a new run that continues where the failed one stopped. */
  resumeFrom?: ResumePoint;
  /** The robot's deadline and risk point, planned by the API at creation (docs/sla.md). */
  sla?: RobotSla;
}

/** Where a retried robot continues: the failed step, with the earlier steps' progress and outputs. */
export interface ResumePoint {
  stepIndex: number;
  steps: StepProgress[];
  outputs: Record<string, Record<string, unknown>>;
}

/** What a control update answers once the workflow accepted it; the status changes as the robot acts. */
export interface ControlAnswer {
  status: RobotStatus;
  /** What the robot does next, in words: shown to the operator. */
  effect: string;
}

/** A reviewer's verdict on an approval step. */
export interface ApprovalDecision {
  /** Corrected fields, merged into the robot's data on approval. */
  fields?: Record<string, unknown>;
  comment?: string;
}

/** Defaults for runs started before these settings existed (their histories replay with them). */
export const DEFAULT_PARK_TIMEOUT_MS = 7 * 86_400_000;
export const DEFAULT_APPROVAL_WAITS = { timeoutMs: 86_400_000, escalationMs: 86_400_000 };

export interface RobotWorkflowResult {
  robotId: string;
  status: 'completed';
  moduleName: string;
  output: Record<string, unknown>;
  processingTimeMs: number;
}

/** Temporal priority keys: 1 is dispatched first, so a critical robot never waits behind low ones. */
export const PRIORITY_KEYS: Record<RobotPriority, number> = { critical: 1, high: 2, normal: 3, low: 4 };

/** Start options of a robot's workflow: id = robot id, search attributes, memo, priority. */
/**
 * `rowCreatedAt`: when the robot's row was written, kept in the memo so a create that finds the run
 * already started can tell its own robot's run (a concurrent repeat) from an earlier robot's.
 */
export function robotStartOptions(args: RobotWorkflowInput, taskQueue: string, rowCreatedAt?: Date) {
  return {
    workflowId: args.robotId,
    taskQueue,
    // A robot runs once: a repeated create (Idempotency-Key, a re-read email) must not start a
    // second run of a finished robot. Retry opts in to a new run explicitly.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    args: [args] as [RobotWorkflowInput],
    priority: { priorityKey: PRIORITY_KEYS[args.priority] },
    typedSearchAttributes: [
      { key: RobotTypeKey, value: args.definition.name },
      { key: RobotStatusKey, value: 'queued' },
      { key: RobotPriorityKey, value: args.priority },
    ],
    memo: {
      robotType: args.definition.name,
      robotTypeVersion: args.definition.version,
      priority: args.priority,
      summary: `${args.definition.name} robot (${args.definition.steps.length} steps)`,
      ...(args.sla ? { sla: args.sla } : {}),
      ...(rowCreatedAt ? { rowCreatedAt: rowCreatedAt.toISOString() } : {}),
    },
  };
}

export type RobotArgsConfig = {
  MODULE_WAIT_SECONDS: number;
  ROBOT_PARK_TIMEOUT: number;
  APPROVAL_TIMEOUT: number;
  APPROVAL_ESCALATION_TIMEOUT: number;
  MODULE_PICKUP_TIMEOUT_SECONDS: number;
  STEP_HEARTBEAT_TIMEOUT_SECONDS: number;
};

/** One run of a robot to start: what it runs, and under which deployment's settings. */
export interface RobotRunRequest {
  config: RobotArgsConfig;
  robotId: string;
  definition: RobotTypeDefinition;
  input: Record<string, unknown>;
  priority: RobotPriority;
  /** A retry: where the failed run stopped. */
  resumeFrom?: ResumePoint | undefined;
  /** The SLA stored on the robot's row (null: none). */
  sla?: RobotSla | null | undefined;
}

/** The workflow's arguments, with the timing settings of this deployment frozen into the run. */
export function robotWorkflowArgs({
  config,
  robotId,
  definition,
  input,
  priority,
  resumeFrom,
  sla,
}: RobotRunRequest): RobotWorkflowInput {
  // The input schema was checked at creation; the run needs only the pipeline in its history.
  const { inputSchema: _checked, ...pipeline } = definition;
  return {
    robotId,
    definition: pipeline,
    input,
    priority,
    moduleWaitSeconds: config.MODULE_WAIT_SECONDS,
    stepPolicy: {
      ...DEFAULT_STEP_POLICY,
      pickupTimeoutSeconds: config.MODULE_PICKUP_TIMEOUT_SECONDS,
      heartbeatTimeoutSeconds: config.STEP_HEARTBEAT_TIMEOUT_SECONDS,
    },
    parkTimeoutMs: config.ROBOT_PARK_TIMEOUT,
    approval: { timeoutMs: config.APPROVAL_TIMEOUT, escalationMs: config.APPROVAL_ESCALATION_TIMEOUT },
    ...(resumeFrom ? { resumeFrom } : {}),
    ...(sla ? { sla } : {}),
  };
}
