import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { stableStringify } from './stable-json';

// A robot type's `inputSchema` (JSON Schema, draft 2020-12 or draft-07) checks a robot's input at
// creation, so a robot that could only fail at its first step is never made. Schemas are compiled
// here (Ajv) once per distinct schema; workflow code never imports this file.

/** One reason the input was refused: `path` is a JSON Pointer into the input, `field` the API's name. */
export interface InputError {
  field: string;
  path: string;
  message: string;
}

/** A schema's JSON past this size is refused at registration: compiling it runs on every API process. */
export const INPUT_SCHEMA_MAX_CHARS = 64 * 1024;
/** Errors reported per refused input; the first ones name what to fix. */
const MAX_ERRORS = 20;
const MAX_COMPILED = 256;

const options = {
  allErrors: true,
  // Unknown keywords (a misspelt `requried`) are refused; type and tuple hints are not required.
  strictSchema: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  // Schemas with an `$id` do not become references for the schemas compiled after them.
  addUsedSchema: false,
} as const;
const draft2020 = addFormats(new Ajv2020(options));
const draft07 = addFormats(new Ajv(options));

function compilerFor(schema: Record<string, unknown>): Ajv | string {
  const dialect = schema.$schema;
  if (dialect === undefined || (typeof dialect === 'string' && /draft\/2020-12\/schema#?$/.test(dialect)))
    return draft2020;
  if (typeof dialect === 'string' && /draft-0[67]\/schema#?$/.test(dialect)) return draft07;
  return '$schema: use JSON Schema draft 2020-12 (the default) or draft-07';
}

const compiled = new Map<string, ValidateFunction>();
/** The same schema object again (a built-in type's) skips even the canonical JSON. */
const bySchemaObject = new WeakMap<object, ValidateFunction>();

function compile(schema: Record<string, unknown>): ValidateFunction {
  const known = bySchemaObject.get(schema);
  if (known) return known;
  const key = stableStringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    const compiler = compilerFor(schema);
    if (typeof compiler === 'string') throw new Error(compiler);
    validate = compiler.compile(schema);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
    compiled.set(key, validate);
  }
  bySchemaObject.set(schema, validate);
  return validate;
}

/** Why a schema cannot check robot inputs, or null when it can (registration). */
export function inputSchemaProblem(schema: Record<string, unknown>): string | null {
  if (stableStringify(schema).length > INPUT_SCHEMA_MAX_CHARS)
    return `must be at most ${INPUT_SCHEMA_MAX_CHARS} characters of JSON`;
  const type = schema.type;
  if (type !== undefined && type !== 'object' && !(Array.isArray(type) && type.includes('object')))
    return 'must accept an object: a robot input is always a JSON object';
  try {
    compile(schema);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const unescapePointer = (part: string): string => part.replace(/~1/g, '/').replace(/~0/g, '~');
const escapePointer = (part: string): string => part.replace(/~/g, '~0').replace(/\//g, '~1');

function toInputError(error: ErrorObject): InputError {
  let path = error.instancePath;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'required') {
    path = `${path}/${escapePointer(String(error.params.missingProperty))}`;
    message = 'is required';
  } else if (error.keyword === 'additionalProperties') {
    path = `${path}/${escapePointer(String(error.params.additionalProperty))}`;
    message = 'is not allowed';
  }
  const parts = path.split('/').slice(1).map(unescapePointer);
  return { field: ['body', 'input', ...parts].join('.'), path, message };
}

/** The reasons `input` does not match the type's schema; none when it does or there is no schema. */
export function checkRobotInput(
  schema: Record<string, unknown> | undefined,
  input: Record<string, unknown>,
): InputError[] {
  if (!schema) return [];
  const validate = compile(schema);
  if (validate(input)) return [];
  return (validate.errors ?? []).slice(0, MAX_ERRORS).map(toInputError);
}
