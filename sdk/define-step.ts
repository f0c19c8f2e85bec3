import { z } from 'zod';
import { parseDuration } from '../core/domain/durations';
import { objectSchemaProblem } from '../core/domain/json-schema';
import { SEMVER_PATTERN } from '../core/domain/semver';
import type { StepDeclaration } from '../core/domain/step-declarations';
import {
  isBuiltInKind,
  isCustomKind,
  isWorkflowStepKind,
  STEP_SECRET_PARAMS,
} from '../core/domain/step-kinds';
import type { Logger } from '../core/observability/logger';
import { DefinitionError } from './errors';

// A module step as its author writes it: the kind it serves, zod schemas for what it takes and
// returns, and `run`. The schemas do two jobs: the module checks each attempt's params, input and
// output with them, and their JSON Schema form is what registration declares to the catalog, which
// checks robot types against it long before a robot reaches the module.

export const DESCRIPTION_MAX_CHARS = 500;

/** Any JSON object; the default for input and output. */
const anyObject = z.object({}).loose();
type AnyObject = typeof anyObject;

export type JsonSchema = Record<string, unknown>;
export type JsonObject = Record<string, unknown>;

/** What `run` receives for one attempt. */
export interface StepContext<Params, Input> {
  /** The step's params from the robot type, parsed by the params schema (defaults applied, secrets revealed). */
  params: Params;
  /** The robot's data (its input plus reviewer corrections), parsed by the input schema. */
  input: Input;
  /** Outputs of the robot's earlier steps, by step name. */
  previous: Record<string, JsonObject>;
  robotId: string;
  /** The step's name in the robot type (several steps of one type may share a kind). */
  stepName: string;
  /**
   * The same on every attempt of this step of this robot, a robot retry included (a UUID; the
   * built-in http-request step sends the same value as Idempotency-Key): steps must be idempotent.
   */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /**
   * Records progress (small JSON) with Temporal. The SDK heartbeats by itself while `run` is
   * pending; call this only to leave details a retry can read back with `heartbeatDetails`.
   */
  heartbeat(details?: unknown): void;
  /** What the last attempt passed to `heartbeat` before it failed, if anything. */
  heartbeatDetails: unknown;
  /** Aborted when Temporal cancels the step, the module stops past its grace period, or `timeout` passes. */
  signal: AbortSignal;
  /** The module's logger with the robot, step and kind on every line; secret values are redacted. */
  log: Logger;
}

export interface StepOptions<P extends z.ZodType, I extends z.ZodType, O extends z.ZodType> {
  /** A custom kind (dotted lowercase words: `crm.lookup`) or a built-in module kind this step replaces. */
  kind: string;
  /** Semver of this kind's contract: params, input and output. A breaking change needs a new kind name. */
  version: string;
  description?: string;
  params: P;
  input?: I;
  output?: O;
  /** Top-level params that may hold `{"$secret": name}`; the module resolves them just before `run`. */
  secrets?: readonly string[];
  /** The longest one attempt may run here: seconds, or a duration like `30s` or `5m`. */
  timeout?: number | string;
  run(context: StepContext<z.output<P>, z.output<I>>): Promise<z.input<O> | undefined>;
}

/** A kind's declaration as POST /v1/modules takes it. */
export type { StepDeclaration };

/** A defined step: what `startModule` serves and `runStep` runs. */
export interface ModuleStep<P extends z.ZodType = z.ZodType, I extends z.ZodType = z.ZodType> {
  readonly kind: string;
  readonly version: string;
  readonly declaration: StepDeclaration;
  readonly schemas: { params: P; input: I; output: z.ZodType };
  readonly secrets: readonly string[];
  readonly timeoutMs: number | undefined;
  /** Typed by `defineStep`'s options; kept loose here so steps of different schemas fit one list. */
  readonly run: (context: StepContext<unknown, unknown>) => Promise<unknown>;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output', field: string, kind: string): JsonSchema {
  let json: JsonSchema;
  try {
    // Refinements have no JSON Schema form: the catalog checks the rest, the module checks all.
    json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  } catch (err) {
    throw new DefinitionError(`step ${kind}: ${field} has no JSON Schema form: ${(err as Error).message}`);
  }
  if (json.type !== 'object') {
    throw new DefinitionError(
      `step ${kind}: ${field} must be a zod object schema (steps take and return JSON objects)`,
    );
  }
  // What the API will check of it (size, Ajv compiles it): refused here, before the module starts.
  const problem = objectSchemaProblem(json, `the step's ${field}`);
  if (problem) throw new DefinitionError(`step ${kind}: the JSON Schema of ${field}: ${problem}`);
  return json;
}

function timeoutMs(timeout: number | string | undefined, kind: string): number | undefined {
  if (timeout === undefined) return undefined;
  const ms = typeof timeout === 'number' ? timeout * 1000 : parseDuration(timeout);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0) {
    throw new DefinitionError(
      `step ${kind}: timeout must be seconds or a duration like 30s, 5m (got ${timeout})`,
    );
  }
  return ms;
}

/** Checks a step's definition and converts its schemas; throws a DefinitionError naming what is wrong. */
export function defineStep<
  P extends z.ZodType,
  I extends z.ZodType = AnyObject,
  O extends z.ZodType = AnyObject,
>(options: StepOptions<P, I, O>): ModuleStep<P, I> {
  const { kind } = options;
  const builtIn = isBuiltInKind(kind);
  if (!isCustomKind(kind) && !builtIn) {
    throw new DefinitionError(
      `step kind "${kind}": use dotted lowercase words like crm.lookup (letters, digits, dashes), or a built-in module kind`,
    );
  }
  if (isWorkflowStepKind(kind)) {
    throw new DefinitionError(`step kind "${kind}" runs in the workflow itself; a module cannot serve it`);
  }
  // The pattern the API enforces, checked here so a typo fails at start, not at registration.
  if (!SEMVER_PATTERN.test(options.version)) {
    throw new DefinitionError(
      `step ${kind}: version must be a semantic version like 1.0.0 (got "${options.version}")`,
    );
  }
  if (options.description !== undefined && options.description.length > DESCRIPTION_MAX_CHARS) {
    throw new DefinitionError(
      `step ${kind}: description must be at most ${DESCRIPTION_MAX_CHARS} characters`,
    );
  }
  const input = (options.input ?? anyObject) as I;
  const output = options.output ?? anyObject;
  const params = jsonSchema(options.params, 'input', 'params', kind);
  const secrets = options.secrets ?? (builtIn ? STEP_SECRET_PARAMS[kind] : []);
  const declared = Object.keys((params.properties as JsonSchema | undefined) ?? {});
  const undeclared = secrets.filter((name) => !declared.includes(name));
  if (undeclared.length > 0) {
    throw new DefinitionError(`step ${kind}: secrets ${undeclared.join(', ')} are not params of the step`);
  }
  return {
    kind,
    version: options.version,
    declaration: {
      kind,
      version: options.version,
      description: options.description ?? '',
      params,
      input: jsonSchema(input, 'input', 'input', kind),
      output: jsonSchema(output, 'output', 'output', kind),
      secretParams: [...secrets],
    },
    schemas: { params: options.params, input, output },
    secrets,
    timeoutMs: timeoutMs(options.timeout, kind),
    run: options.run as unknown as ModuleStep['run'],
  };
}
