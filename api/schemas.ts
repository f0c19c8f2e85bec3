import { z } from 'zod';
import { ROBOT_PRIORITIES, ROBOT_STATUSES } from '../core/robot';

// One place for the API's request shapes: routes parse with them, the OpenAPI document is built from them.

export const createRobotBody = z
  .object({
    type: z.string().min(1).max(63).describe('Robot type name, e.g. `demo`'),
    input: z.record(z.string(), z.unknown()).default({}).describe('Input data for the pipeline'),
    priority: z.enum(ROBOT_PRIORITIES).default('normal'),
  })
  .strict();
export type CreateRobotBody = z.infer<typeof createRobotBody>;

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
  .optional();

export const robotIdParams = z.object({ id: z.uuid({ message: 'must be a robot id (UUID)' }) });

export const listRobotsQuery = z
  .object({
    status: z.enum(ROBOT_STATUSES).optional(),
    type: z.string().min(1).max(63).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListRobotsQuery = z.infer<typeof listRobotsQuery>;
