import { z } from 'zod';
import {
  OVERLAP_POLICIES,
  SCHEDULE_ID_PATTERN,
  scheduleFields,
  whenProblem,
} from '../core/domain/robot-schedule';

// Request shapes of /v1/schedules: routes parse with them, the OpenAPI document is built from them.

export const scheduleIdParams = z.object({
  id: z.string().regex(SCHEDULE_ID_PATTERN, 'a schedule id: lowercase letters, digits and dashes'),
});

export const createScheduleBody = z
  .object({
    id: z
      .string()
      .regex(SCHEDULE_ID_PATTERN, 'lowercase letters, digits and dashes (at most 63)')
      .optional()
      .describe('Schedule id; default: `s-` and 8 random hex digits'),
    ...scheduleFields,
    paused: z.boolean().default(false).describe('Create the schedule paused'),
    note: z.string().max(500).optional().describe('Note shown with the state (e.g. why it is paused)'),
  })
  .strict()
  .superRefine((body, ctx) => {
    const problem = whenProblem(body);
    if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });
export type CreateScheduleBody = z.infer<typeof createScheduleBody>;

/** PATCH: any of the definition's fields; the route keeps only the ones the request gave. */
export const updateScheduleBody = z.object(scheduleFields).partial().strict();

export const scheduleNoteBody = z
  .object({ note: z.string().max(500).optional().describe('Why; shown with the schedule state') })
  .strict();

export const triggerScheduleBody = z
  .object({
    overlap: z
      .enum(OVERLAP_POLICIES)
      .optional()
      .describe('Overlap policy of this one firing (default allowAll: it runs beside a running one)'),
  })
  .strict();

export const backfillScheduleBody = z
  .object({
    start: z.iso.datetime({ offset: true }).describe('First nominal time of the range (ISO 8601)'),
    end: z.iso.datetime({ offset: true }).describe('Last nominal time of the range, in the past'),
    overlap: z.enum(OVERLAP_POLICIES).optional().describe('Default allowAll: one robot per nominal time'),
  })
  .strict();

export const nextRunsQuery = z
  .object({ count: z.coerce.number().int().min(1).max(100).default(10) })
  .strict();
