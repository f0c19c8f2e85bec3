import { z } from 'zod';
import { BULK_ACTIONS } from '../core/domain/bulk-operation.contract';
import { ROBOT_PRIORITIES, ROBOT_STATUSES } from '../core/domain/robot';

// Requests of the bulk actions on robots (POST /v1/robots/bulk/{action}, ADR 0049).

const name = (what: string) =>
  z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, `a ${what} name: lowercase letters, digits and dashes`);
const instant = z.iso.datetime({ offset: true });

export const bulkActionParams = z.object({ action: z.enum(BULK_ACTIONS) });

export const bulkOperationParams = z.object({
  operationId: z.string().regex(/^bulk-[0-9a-f]{32}$/, 'an operation id returned by POST /v1/robots/bulk'),
});

export const bulkFilter = z
  .object({
    status: z.enum(ROBOT_STATUSES).optional(),
    type: name('robot type').optional(),
    module: name('module').optional(),
    createdFrom: instant.optional().describe('robots created at or after this (ISO 8601)'),
    createdTo: instant
      .optional()
      .describe('robots created at or before this (ISO 8601); default and at most: now'),
    query: z
      .string()
      .min(1)
      .max(1000)
      .optional()
      .describe("a Temporal visibility query, e.g. `RobotPriority = 'low'`; ANDed with the other conditions"),
  })
  .strict()
  .refine((filter) => Object.values(filter).some((value) => value !== undefined), {
    message: 'give at least one condition (status, type, module, createdFrom, createdTo or query)',
  })
  .refine(
    (filter) =>
      !filter.createdFrom ||
      !filter.createdTo ||
      Date.parse(filter.createdFrom) <= Date.parse(filter.createdTo),
    {
      message: 'createdFrom must not be after createdTo',
    },
  );

export const bulkBody = z
  .object({
    filter: bulkFilter,
    dryRun: z.boolean().default(false).describe('count (and sample) the matching robots; act on none'),
    priority: z.enum(ROBOT_PRIORITIES).optional().describe('reprioritize: the new priority'),
  })
  .strict();
export type BulkBody = z.infer<typeof bulkBody>;

export const reprioritizeBody = z.object({ priority: z.enum(ROBOT_PRIORITIES) }).strict();
