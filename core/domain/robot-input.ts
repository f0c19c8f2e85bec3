import { objectSchemaProblem, SCHEMA_MAX_CHARS, type SchemaError, schemaErrors } from './json-schema';

// A robot type's `inputSchema` (JSON Schema, draft 2020-12 or draft-07) checks a robot's input at
// creation, so a robot that could only fail at its first step is never made. The schemas are
// compiled in core/domain/json-schema.ts; workflow code never imports this file.

/** One reason the input was refused: `path` is a JSON Pointer into the input, `field` the API's name. */
export type InputError = SchemaError;

/** A schema's JSON past this size is refused at registration: compiling it runs on every API process. */
export const INPUT_SCHEMA_MAX_CHARS = SCHEMA_MAX_CHARS;

/** Why a schema cannot check robot inputs, or null when it can (registration). */
export function inputSchemaProblem(schema: Record<string, unknown>): string | null {
  return objectSchemaProblem(schema, 'a robot input');
}

/** The reasons `input` does not match the type's schema; none when it does or there is no schema. */
export function checkRobotInput(
  schema: Record<string, unknown> | undefined,
  input: Record<string, unknown>,
): InputError[] {
  if (!schema) return [];
  return schemaErrors(schema, input, ['body', 'input']);
}
