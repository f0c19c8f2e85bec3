import type { RobotPriority, RobotStatus } from './robot';

// The bulk robots workflow's contract, below both sides: the API starts it and reads its progress,
// the control worker runs it and its activities. The query handle is in
// workflows/bulk-robots.definitions.ts.

export const BULK_ROBOTS_WORKFLOW = 'bulkRobotsWorkflow';

export const BULK_ACTIONS = ['cancel', 'retry', 'resume', 'reprioritize'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** Which robots an operation acts on. All given conditions hold (AND). */
export interface BulkFilter {
  status?: RobotStatus;
  type?: string;
  module?: string;
  /** ISO timestamps, inclusive. `createdTo` is at most the operation's start: later robots are never touched. */
  createdFrom?: string;
  createdTo: string;
  /** A Temporal visibility query over the robots' workflows; with it, Temporal (not Postgres) matches. */
  query?: string;
}

export interface BulkOperationInput {
  operationId: string;
  action: BulkAction;
  /** reprioritize only. */
  priority?: RobotPriority;
  filter: BulkFilter;
  /** Who asked (audit actor), and the key's id when an API key did. */
  actor: string;
  keyId: string | null;
  batchSize: number;
  /** BULK_MAX_ROBOTS when the operation was accepted: the set read at start never grows past it. */
  maxRobots: number;
  /** How many robots the API counted when it accepted the request (the set is read again at start). */
  counted: number;
}

export type BulkOutcomeKind = 'done' | 'skipped' | 'failed';

export interface BulkOutcome {
  robotId: string;
  result: BulkOutcomeKind;
  /** Why a robot was skipped or failed (e.g. `robot is completed; cancel needs a robot that is still open`). */
  reason?: string;
}

export type BulkState = 'matching' | 'running' | 'completed' | 'cancelled';

/** What GET /v1/robots/bulk/{operationId} reports: the workflow's `bulkProgress` query. */
export interface BulkProgress {
  operationId: string;
  action: BulkAction;
  priority?: RobotPriority;
  state: BulkState;
  matched: number;
  done: number;
  skipped: number;
  failed: number;
  /** Skips and failures by reason, counted. */
  reasons: Record<string, number>;
  /** The first robots that failed, with why (at most BULK_FAILURES_KEPT). */
  failures: BulkOutcome[];
}

export const BULK_FAILURES_KEPT = 20;

/** One page of the matching robot ids; `next` is null after the last. */
export interface BulkPageArgs {
  filter: BulkFilter;
  after: string | null;
  limit: number;
}
export interface BulkPage {
  robotIds: string[];
  next: string | null;
}

export interface BulkApplyArgs {
  operationId: string;
  action: BulkAction;
  priority?: RobotPriority;
  robotIds: string[];
}

export interface BulkFinishedArgs {
  operationId: string;
  action: BulkAction;
  actor: string;
  keyId: string | null;
  progress: BulkProgress;
}
