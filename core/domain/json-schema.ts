import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { stableStringify } from './stable-json';

// JSON Schemas given by users: a robot type's inputSchema (core/domain/robot-input.ts) and a module's
// step declarations (core/domain/step-declarations.ts). Compiled here (Ajv) once per distinct schema;
// workflow code never imports this file.

/** One reason a value was refused: `path` is a JSON Pointer into the value, `field` the API's name. */
export interface SchemaError {
  field: string;
  path: string;
  message: string;
}

/** A schema's JSON past this size is refused at registration: compiling it runs on every API process. */
export const SCHEMA_MAX_CHARS = 64 * 1024;
/** Errors reported per refused value; the first ones name what to fix. */
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

/**
 * Why a schema cannot check values that are always JSON objects (robot inputs, step params and
 * outputs), or null when it can. `subject` names those values in the message.
 */
export function objectSchemaProblem(schema: Record<string, unknown>, subject: string): string | null {
  if (stableStringify(schema).length > SCHEMA_MAX_CHARS)
    return `must be at most ${SCHEMA_MAX_CHARS} characters of JSON`;
  const type = schema.type;
  if (type !== undefined && type !== 'object' && !(Array.isArray(type) && type.includes('object')))
    return `must accept an object: ${subject} is always a JSON object`;
  try {
    compile(schema);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

const unescapePointer = (part: string): string => part.replace(/~1/g, '/').replace(/~0/g, '~');
export const escapePointer = (part: string): string => part.replace(/~/g, '~0').replace(/\//g, '~1');

function toSchemaError(error: ErrorObject, fieldPrefix: readonly (string | number)[]): SchemaError {
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
  return { field: [...fieldPrefix, ...parts].join('.'), path, message };
}

/**
 * The reasons `value` does not match a schema that compiles (checked at registration). `ignore`
 * drops an error before it counts: a caller's own notion of what the schema cannot judge.
 */
export function schemaErrors(
  schema: Record<string, unknown>,
  value: unknown,
  fieldPrefix: readonly (string | number)[],
  ignore: (error: ErrorObject) => boolean = () => false,
): SchemaError[] {
  const validate = compile(schema);
  if (validate(value)) return [];
  return (validate.errors ?? [])
    .filter((error) => !ignore(error))
    .slice(0, MAX_ERRORS)
    .map((error) => toSchemaError(error, fieldPrefix));
}
