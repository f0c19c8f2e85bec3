import { z } from 'zod';
import { cronProblem } from './cron';
import { DURATION_PATTERN, parseDuration } from './durations';
import { ROBOT_PRIORITIES } from './robot';
import { stripControlCharsDeep } from './text';

// A robot schedule: when robots of a type are made, with what input. The schedule itself is a
// Temporal Schedule (docs/adr/0047-robot-schedules.md); this file holds its definition, which the
// schedule's action carries to every firing, and the names both sides agree on. Pure: workflow-safe.

export const SCHEDULED_ROBOT_WORKFLOW = 'scheduledRobotWorkflow';

/** What the API calls a schedule: lowercase letters, digits and dashes. */
export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Temporal's own name for the schedule: per deployment (its control queue), so runs never share one. */
export function temporalScheduleId(controlTaskQueue: string, scheduleId: string): string {
  return `${controlTaskQueue}:robot-schedule:${scheduleId}`;
}

/** The API's id of a Temporal schedule id of this deployment, or undefined for any other schedule. */
export function scheduleIdOf(controlTaskQueue: string, temporalId: string): string | undefined {
  const prefix = `${controlTaskQueue}:robot-schedule:`;
  return temporalId.startsWith(prefix) ? temporalId.slice(prefix.length) : undefined;
}

export const OVERLAP_POLICIES = ['skip', 'bufferOne', 'allowAll'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

const duration = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(DURATION_PATTERN, 'a duration like 90s, 30m, 4h or 2d')
    .refine((text) => {
      const ms = parseDuration(text) ?? -1;
      return ms >= min && ms <= max;
    }, what);

const DAY = 86_400_000;

/** One calendar field: `*`, a number, a range, or a list of them (Temporal's calendar spec). */
function calendarField(min: number, max: number) {
  const value = z.number().int().min(min).max(max);
  const range = z
    .object({ start: value, end: value.optional(), step: z.number().int().min(1).max(max).optional() })
    .strict()
    .refine((r) => r.end === undefined || r.end >= r.start, 'end must not be before start');
  return z.union([
    z.literal('*'),
    value,
    range,
    z
      .array(z.union([value, range]))
      .min(1)
      .max(60),
  ]);
}

export const calendarRuleSchema = z
  .object({
    second: calendarField(0, 59).optional(),
    minute: calendarField(0, 59).optional(),
    hour: calendarField(0, 23).optional(),
    dayOfMonth: calendarField(1, 31).optional(),
    month: calendarField(1, 12).optional(),
    /** 0 = Sunday … 6 = Saturday. */
    dayOfWeek: calendarField(0, 6).optional(),
    year: calendarField(2000, 2200).optional(),
    comment: z.string().max(200).optional(),
  })
  .strict();
export type CalendarRule = z.infer<typeof calendarRuleSchema>;

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The fields a schedule is made of, as POST takes them (PATCH takes any of them). */
export const scheduleFields = {
  description: z.string().max(500).optional().describe('Shown in the API, CLI and dashboard'),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a robot type name: lowercase letters, digits and dashes')
    .describe('Robot type of the robots this schedule makes'),
  input: z
    .record(z.string(), z.unknown())
    .default({})
    .transform((input) => stripControlCharsDeep(input) as Record<string, unknown>)
    .describe("Each robot's input, checked against the type's inputSchema"),
  priority: z.enum(ROBOT_PRIORITIES).default('normal'),
  sla: duration(1000, 365 * DAY, 'must be from 1s to 365d')
    .optional()
    .describe("Time each robot is allowed from its creation; default: the robot type's `sla`"),
  cron: z
    .string()
    .max(200)
    .refine((text) => cronProblem(text) === undefined, {
      error: (issue) => cronProblem(String(issue.input)) ?? 'not a cron expression',
    })
    .optional()
    .describe('Five-field cron expression, e.g. `0 9 * * MON-FRI`, in `timeZone`'),
  interval: z
    .object({
      every: duration(1000, 366 * DAY, 'must be from 1s to 366d'),
      offset: duration(0, 366 * DAY, 'must be from 0s to 366d').optional(),
    })
    .strict()
    .optional()
    .describe('Every `every` since the Unix epoch, shifted by `offset`'),
  calendar: z
    .array(calendarRuleSchema)
    .min(1)
    .max(20)
    .optional()
    .describe('Calendar rules (any matching time fires); unset fields: second/minute/hour 0, others any'),
  timeZone: z
    .string()
    .max(64)
    .refine(isTimeZone, { error: (issue) => `unknown time zone "${String(issue.input)}"` })
    .default('UTC')
    .describe('IANA time zone of `cron` and `calendar`, e.g. `Europe/Paris`'),
  overlap: z
    .enum(OVERLAP_POLICIES)
    .default('skip')
    .describe("When the previous firing's robot is still running: skip, buffer one, or allow all"),
  catchupWindow: duration(10_000, 366 * DAY, 'must be from 10s to 366d')
    .default('5m')
    .describe('Firings missed while Temporal was unavailable are made up if at most this late'),
  jitter: duration(0, 366 * DAY, 'must be from 0s to 366d')
    .default('0s')
    .describe('Each firing is delayed by a random time up to this (its nominal time stays)'),
};

/** Exactly one way of saying when. */
export function whenProblem(definition: { cron?: unknown; interval?: unknown; calendar?: unknown }) {
  const given = (['cron', 'interval', 'calendar'] as const).filter((key) => definition[key] !== undefined);
  if (given.length === 1) return undefined;
  return given.length === 0
    ? 'give one of cron, interval or calendar'
    : `give only one of cron, interval or calendar (got ${given.join(', ')})`;
}

export const robotScheduleDefinitionSchema = z
  .object(scheduleFields)
  .strict()
  .superRefine((definition, ctx) => {
    const problem = whenProblem(definition);
    if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });

/** What every firing is given (the schedule action's argument) and what GET shows. */
export type RobotScheduleDefinition = z.infer<typeof robotScheduleDefinitionSchema>;

/** The scheduled workflow's argument: the schedule's API id and its definition when it fired. */
export interface ScheduledRobotArgs {
  scheduleId: string;
  /** Temporal's schedule id (with the deployment's prefix): robot ids are derived from it. */
  temporalScheduleId: string;
  definition: RobotScheduleDefinition;
  /** Set by continue-as-new only: the robot already made, still being waited for. */
  waiting?: { robotId: string; nominalTime: string };
}

export interface CreateScheduledRobotRequest {
  scheduleId: string;
  temporalScheduleId: string;
  definition: RobotScheduleDefinition;
  /** ISO 8601, whole seconds: the time the schedule meant this firing for (jitter not included). */
  nominalTime: string;
}

export interface CreateScheduledRobotResult {
  robotId: string;
  created: boolean;
}

/** The note a schedule is paused with when its firing cannot make a robot; GET reports it as lastError. */
export const SCHEDULE_ERROR_NOTE_PREFIX = 'error: ';

/** The nominal time a schedule-started workflow id ends with (Temporal appends it, RFC 3339, seconds). */
export function nominalTimeOfWorkflowId(workflowId: string): string | undefined {
  const match = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/.exec(workflowId);
  return match?.[1] ? new Date(match[1]).toISOString() : undefined;
}
