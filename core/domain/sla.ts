import { parseDuration } from './durations';

// A robot's deadline and its risk point. Pure (no zod, no clock of its own): the API plans with
// the request's time, the workflow compares with its deterministic time.

export const SLA_STATES = ['on_track', 'at_risk', 'missed', 'met'] as const;
export type SlaState = (typeof SLA_STATES)[number];

/** Bounds of a deadline or SLA duration, from the robot's creation. */
export const MIN_SLA_MS = 1000;
export const MAX_SLA_MS = 365 * 86_400_000;

/** A robot's SLA as stored on its row, passed into its workflow and shown by the API. */
export interface RobotSla {
  deadline: string;
  /** When the robot is raised to the highest priority and people are warned. */
  riskAt: string;
  state: SlaState;
}

/** Why a deadline request was refused: the field and the message for the 400 problem. */
export interface SlaProblem {
  field: 'body.deadline' | 'body.sla';
  message: string;
}

/**
 * The risk point: `riskShare` of the robot's whole SLA before its deadline (share 0.2 of a 4 h SLA
 * = 48 min before the deadline). Never before the start.
 */
export function riskPoint(start: Date, deadline: Date, riskShare: number): Date {
  const total = Math.max(0, deadline.getTime() - start.getTime());
  return new Date(deadline.getTime() - Math.round(total * riskShare));
}

/**
 * The SLA of a new robot: an explicit `deadline` (ISO 8601 instant), else an `sla` duration from
 * now, else the robot type's default `sla`; none of them: no SLA. A bad value is a problem, not
 * an exception, so the API can name the field.
 */
export function planSla(
  now: Date,
  request: { deadline?: string | undefined; sla?: string | undefined },
  typeSla: string | undefined,
  riskShare: number,
): { sla: RobotSla | null } | { problem: SlaProblem } {
  if (request.deadline !== undefined && request.sla !== undefined) {
    return { problem: { field: 'body.sla', message: 'give either deadline or sla, not both' } };
  }
  let deadline: Date;
  if (request.deadline !== undefined) {
    deadline = new Date(request.deadline);
    const ahead = deadline.getTime() - now.getTime();
    if (Number.isNaN(ahead))
      return { problem: { field: 'body.deadline', message: 'must be an ISO 8601 date-time' } };
    if (ahead < MIN_SLA_MS)
      return { problem: { field: 'body.deadline', message: 'must be at least 1 s in the future' } };
    if (ahead > MAX_SLA_MS)
      return { problem: { field: 'body.deadline', message: 'must be at most 365 days ahead' } };
  } else {
    const text = request.sla ?? typeSla;
    if (text === undefined) return { sla: null };
    const ms = parseDuration(text);
    if (ms === undefined || ms < MIN_SLA_MS || ms > MAX_SLA_MS) {
      return {
        problem: {
          field: 'body.sla',
          message: 'must be a duration from 1s to 365d, like 90s, 30m, 4h or 2d',
        },
      };
    }
    deadline = new Date(now.getTime() + ms);
  }
  return {
    sla: {
      deadline: deadline.toISOString(),
      riskAt: riskPoint(now, deadline, riskShare).toISOString(),
      state: 'on_track',
    },
  };
}
