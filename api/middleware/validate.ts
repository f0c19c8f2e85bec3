import type { z } from 'zod';
import { ValidationError } from '../../core/domain/errors';

export interface FieldError {
  field: string;
  message: string;
}

/** Parses one part of a request; the problem names every failing field. */
export function parseOrThrow<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: 'body' | 'query' | 'params' | 'headers',
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = errors[0];
  throw new ValidationError(first ? `${first.field}: ${first.message}` : `invalid ${where}`, { errors });
}
