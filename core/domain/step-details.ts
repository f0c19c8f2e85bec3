import type { ApprovalWait, RobotProgress, StepProgress, StoredDecision } from './robot';

// robot_execute.step_details: the part of a run's progress that has no column of its own. Written
// by ExecutionsRepository.upsert, read by the API (robot progress, approvals, retries). Rows may come
// from earlier versions or the column's default ({}), so every reader goes through readStepDetails.

export interface StepDetails {
  steps: StepProgress[];
  reason: string | null;
  routing: StoredDecision[];
  /** Streams read from Postgres when there is no Redis: they need the update's sequence. */
  sequence: number | null;
  approval?: ApprovalWait;
  pauseRequested?: true;
  /** Each completed step's output, stored with the final record: a retry continues from them. */
  outputs?: Record<string, Record<string, unknown>>;
}

/** What a run's progress (and, when it finished, its steps' outputs) stores. */
export function stepDetailsOf(progress: RobotProgress, outputs?: Record<string, unknown>): StepDetails {
  return {
    steps: progress.steps,
    reason: progress.reason ?? null,
    routing: progress.routing,
    sequence: progress.sequence ?? null,
    ...(progress.approval ? { approval: progress.approval } : {}),
    ...(progress.pauseRequested ? { pauseRequested: true } : {}),
    ...(outputs ? { outputs: stepOutputs(outputs) } : {}),
  };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The robot's output is one record per step, by step name. */
function stepOutputs(output: Record<string, unknown>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(output).filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1])),
  );
}

/** A stored step_details value, whatever version wrote it; missing parts read as empty. */
export function readStepDetails(stored: unknown): StepDetails {
  const raw = isRecord(stored) ? stored : {};
  return {
    steps: Array.isArray(raw.steps) ? (raw.steps as StepProgress[]) : [],
    reason: typeof raw.reason === 'string' ? raw.reason : null,
    routing: Array.isArray(raw.routing) ? (raw.routing as StoredDecision[]) : [],
    sequence: typeof raw.sequence === 'number' ? raw.sequence : null,
    ...(isRecord(raw.approval) ? { approval: raw.approval as unknown as ApprovalWait } : {}),
    ...(raw.pauseRequested === true ? { pauseRequested: true } : {}),
    ...(isRecord(raw.outputs) ? { outputs: stepOutputs(raw.outputs) } : {}),
  };
}
