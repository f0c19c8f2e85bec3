import pino from 'pino';
import type { z } from 'zod';
import { idempotencyKey } from '../core/adapters/crypto/step-idempotency-key';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import type { Logger } from '../core/observability/logger';
import type { JsonObject, ModuleStep, StepContext } from './define-step';
import { PermanentError } from './errors';

// One attempt of a step without Temporal: check params and input, run, check the output. The
// activity (step-activity.ts) wraps this with Temporal's context; tests of a step call `runStep`.

/** What the attempt gets from where it runs (Temporal's activity context, or a test's defaults). */
export interface AttemptRuntime {
  attempt: number;
  heartbeat(details?: unknown): void;
  heartbeatDetails: unknown;
  signal: AbortSignal;
  log: Logger;
}

/** `text`, `items[0].name`: where a value sits, for messages. */
function pathOf(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${String(part)}`),
    root,
  );
}

/** Every issue with its field path, as one line: the robot's failure reason shows it. */
export function describeIssues(root: string, error: z.ZodError): string {
  return error.issues.map((issue) => `${pathOf(root, issue.path)}: ${issue.message}`).join('; ');
}

async function parse<T extends z.ZodType>(schema: T, value: unknown, root: string, what: string) {
  const result = await schema.safeParseAsync(value);
  if (!result.success) {
    throw new PermanentError(`${what}: ${describeIssues(root, result.error)}`, {
      type: 'InvalidStepData',
      details: {
        issues: result.error.issues.map((issue) => ({
          field: pathOf(root, issue.path),
          message: issue.message,
        })),
      },
    });
  }
  return result.data as z.output<T>;
}

const isJsonObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates, runs and checks one attempt; a PermanentError for data that no retry would fix. */
export async function executeStep(
  step: ModuleStep,
  input: StepInput,
  runtime: AttemptRuntime,
): Promise<StepOutput> {
  const name = input.step.name;
  const params = await parse(
    step.schemas.params,
    input.step.params ?? {},
    'params',
    `step ${name}: invalid params`,
  );
  const data = await parse(
    step.schemas.input,
    input.input ?? {},
    'input',
    `step ${name}: the robot's data does not fit`,
  );
  const context: StepContext<unknown, unknown> = {
    params,
    input: data,
    previous: input.previous ?? {},
    robotId: input.robotId,
    stepName: name,
    idempotencyKey: idempotencyKey(input.robotId, name),
    ...runtime,
  };
  const returned = (await step.run(context)) ?? {};
  const output = await parse(
    step.schemas.output,
    returned,
    'output',
    'step returned an output that does not match its schema',
  );
  if (!isJsonObject(output)) {
    throw new PermanentError(
      'step returned an output that does not match its schema: output: expected a JSON object',
    );
  }
  return output;
}

/** What a test gives `runStep`: the params and robot data; the rest has defaults. */
export interface RunStepInput {
  params?: Record<string, unknown>;
  input?: Record<string, unknown>;
  previous?: Record<string, JsonObject>;
  robotId?: string;
  stepName?: string;
  attempt?: number;
  signal?: AbortSignal;
  log?: Logger;
}

/**
 * Runs a step as the module would, without Temporal or the API: for unit tests of a step. Bad
 * params, input or output throw a PermanentError naming the fields.
 */
export function runStep(step: ModuleStep, options: RunStepInput = {}): Promise<StepOutput> {
  return executeStep(
    step,
    {
      robotId: options.robotId ?? 'test-robot',
      step: {
        name: options.stepName ?? step.kind,
        kind: step.kind,
        params: options.params ?? {},
        timeoutSeconds: 60,
      },
      input: options.input ?? {},
      previous: options.previous ?? {},
    },
    {
      attempt: options.attempt ?? 1,
      heartbeat: () => undefined,
      heartbeatDetails: undefined,
      signal: options.signal ?? new AbortController().signal,
      log: options.log ?? pino({ level: 'silent' }),
    },
  );
}
