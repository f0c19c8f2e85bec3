import type { CandidateScore, RoutingDecision } from './load-balancer';
import type { RobotSla } from './sla';

// Words of the robot domain shared by API, workflows, activities and the database.

export const ROBOT_STATUSES = [
  'queued',
  'pending',
  'running',
  'paused',
  'parked',
  'awaiting_approval',
  'escalated',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RobotStatus = (typeof ROBOT_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RobotStatus[] = ['completed', 'failed', 'cancelled'];

/** A robot waiting at an approval step for a person's verdict. */
export const WAITING_FOR_PEOPLE: readonly RobotStatus[] = ['awaiting_approval', 'escalated'];

export const ROBOT_PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type RobotPriority = (typeof ROBOT_PRIORITIES)[number];

export const EXECUTION_STATES = ['started', 'running', 'completed', 'failed', 'cancelled'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface StepProgress {
  name: string;
  kind: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  moduleName?: string;
  startedAt?: string;
  completedAt?: string;
  durationMs?: number;
  error?: string;
  /** An approval step whose first wait ran out: when it was escalated. */
  escalatedAt?: string;
}

/** A robot waiting for a person (an `approval` step): what `GET /v1/approvals` lists. */
export interface ApprovalWait {
  step: string;
  /** Why a person is asked: the SLA review of a robot past its deadline (absent: an approval step). */
  reason?: 'sla-missed';
  since: string;
  /** When the current wait ends: escalation first, then failure. */
  deadline: string;
  escalated: boolean;
  /** What the reviewer checks: the robot's data so far and the earlier steps' outputs. */
  data: { input: Record<string, unknown>; outputs: Record<string, Record<string, unknown>> };
}

/** One routing decision as kept in history and robot_execute: bounded whatever the module count. */
export type StoredDecision = Omit<RoutingDecision, 'candidates'> & {
  candidates: CandidateScore[];
  candidatesOmitted: number;
  decidedAt: string;
  exclude: string[];
  /** initial: first choice; failover: the module did not take or finish a step; wait: none was eligible. */
  cause?: 'initial' | 'failover' | 'wait';
  step?: string;
};

/** What the `progress` query answers and what is cached in Redis. */
export interface RobotProgress {
  robotId: string;
  robotType: string;
  status: RobotStatus;
  priority: RobotPriority;
  moduleName: string | null;
  currentStep: string | null;
  stepsCompleted: number;
  stepsTotal: number;
  percent: number;
  steps: StepProgress[];
  reason?: string;
  /** Re-dispatches to another module (failovers). */
  retryCount: number;
  /** Increases with every recorded update: lets streams drop duplicates and spot gaps. */
  sequence?: number;
  /** Routing decisions, oldest first (at most the last 10). */
  routing: StoredDecision[];
  /** Set while an approval step waits for a person. */
  approval?: ApprovalWait;
  /** A pause was asked for and takes effect before the next step. */
  pauseRequested?: boolean;
  /** The robot's deadline, risk point and SLA state (robots with a deadline, docs/sla.md). */
  sla?: RobotSla;
}

export function isTerminal(status: RobotStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The API's representation of a robot; also the value cached in Redis. */
export interface RobotView {
  robotId: string;
  type: string;
  typeVersion: number;
  status: RobotStatus;
  priority: RobotPriority;
  moduleName: string | null;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  progress: Omit<RobotProgress, 'routing'> | null;
  /** Why this module: the routing decisions (candidates, factors, scores, the reason others lost). */
  routing: StoredDecision[];
  error: string | null;
  processingTimeMs: number | null;
  retryCount: number;
  completenessScore: number | null;
  /** Deadline, risk point and SLA state; null for a robot without a deadline. */
  sla: RobotSla | null;
  createdAt: string;
  updatedAt: string;
}
