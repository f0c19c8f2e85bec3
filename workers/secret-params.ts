import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/domain/failure-types';
import { isSecretReference, misplacedSecretReferences, paramPath } from '../core/domain/secret-refs';
import type { StepInput, StepOutput } from '../core/domain/step-activity.contract';
import { STEP_SECRET_PARAMS } from '../core/domain/step-kinds';
import {
  type RevealedSecrets,
  redactPayload,
  redactText,
  withRevealedSecrets,
} from '../core/observability/secret-redaction';

// Step params may hold `{"$secret": "name"}`, but only in the params the step's kind declares secret.
// This wrapper is the one place that resolves them, inside the activity on the module worker, just
// before the step runs: workflow arguments and history only ever carry the reference. It is also the
// one place that keeps the values in: whatever the step returns, throws, heartbeats or logs while it
// runs leaves the module with each value replaced by `[secret:<name>]` (ADR 0014).

export type RevealSecret = (name: string) => Promise<string | null>;

/** The params of each step kind (activity name) that may hold secret references. */
export type StepSecretParams = Readonly<Record<string, readonly string[]>>;

async function resolve(
  value: unknown,
  reveal: RevealSecret,
  revealed: Map<string, string>,
): Promise<unknown> {
  if (isSecretReference(value)) {
    let secret: string | null;
    try {
      secret = await reveal(value.$secret);
    } catch (err) {
      // The message names the secret only; a decrypt failure is a configuration problem, not retryable.
      throw ApplicationFailure.nonRetryable(
        `secret "${value.$secret}" is unavailable: ${(err as Error).message.replace(/^secret "[^"]*" /, '')}`,
        FAILURE_TYPES.secretUnavailable,
      );
    }
    if (secret === null) {
      throw ApplicationFailure.nonRetryable(
        `secret "${value.$secret}" does not exist`,
        FAILURE_TYPES.secretNotFound,
      );
    }
    revealed.set(value.$secret, secret);
    return secret;
  }
  if (Array.isArray(value)) return Promise.all(value.map((item) => resolve(item, reveal, revealed)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await resolve(item, reveal, revealed)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * The step's params with the references in its kind's secret params replaced by their values, and
 * those values by name. A reference anywhere else fails the step without being looked up: a type
 * registered before kinds declared their secret params, or a workflow started by hand, cannot make
 * a step echo a secret.
 */
export async function resolveSecretParams(
  step: StepInput['step'],
  secretParams: readonly string[],
  reveal: RevealSecret,
): Promise<{ params: StepInput['step']['params']; revealed: RevealedSecrets }> {
  const [misplaced] = misplacedSecretReferences(step.params, secretParams);
  if (misplaced) {
    const allowed = secretParams.length > 0 ? `only in ${secretParams.join(', ')}` : 'in none of its params';
    throw ApplicationFailure.nonRetryable(
      `step ${step.name}: param ${paramPath(misplaced.path)} holds a reference to secret "${misplaced.name}", ` +
        `but a ${step.kind} step takes secrets ${allowed}`,
      'SecretNotAllowed',
    );
  }
  const revealed = new Map<string, string>();
  const params = { ...step.params };
  for (const param of secretParams) {
    if (param in params) params[param] = await resolve(params[param], reveal, revealed);
  }
  return { params, revealed };
}

/** Sets a property even where a class declares it read-only; false if the object refuses. */
function overwrite(target: object, key: string, value: unknown): boolean {
  try {
    const enumerable = Object.getOwnPropertyDescriptor(target, key)?.enumerable ?? false;
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
    return true;
  } catch {
    return false;
  }
}

/**
 * The thrown value with the secrets taken out of every message, stack, `details` and `cause` on its
 * chain. Errors are changed in place so their class survives (a CancelledFailure must stay one);
 * one that cannot be changed is replaced by a failure carrying its redacted text.
 */
export function redactError(err: unknown, secrets: RevealedSecrets): unknown {
  if (!(err instanceof Error)) return redactPayload(err, secrets);
  const seen = new Set<Error>();
  let writable = true;
  for (let current: unknown = err; current instanceof Error && !seen.has(current); ) {
    seen.add(current);
    const failure = current as Error & { details?: unknown };
    writable &&= overwrite(failure, 'message', redactText(failure.message, secrets));
    if (typeof failure.stack === 'string')
      writable &&= overwrite(failure, 'stack', redactText(failure.stack, secrets));
    if (failure.details !== undefined && failure.details !== null)
      writable &&= overwrite(failure, 'details', redactPayload(failure.details, secrets));
    const cause: unknown = failure.cause;
    if (cause !== undefined && !(cause instanceof Error))
      writable &&= overwrite(failure, 'cause', redactPayload(cause, secrets));
    current = cause;
  }
  if (writable) return err;
  return ApplicationFailure.create({
    message: redactText(err.message, secrets),
    type: err.name,
    nonRetryable: err instanceof ApplicationFailure && err.nonRetryable === true,
  });
}

/** Heartbeat details are sent to Temporal (and shown by describe): the step's context redacts them. */
function redactHeartbeats(secrets: RevealedSecrets): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return; // called outside an activity (a unit test of the step function)
  }
  const send = context.heartbeat;
  overwrite(context, 'heartbeat', (details?: unknown) => send(redactPayload(details, secrets)));
}

/**
 * The same activities, each resolving the secret references of its step's secret params first and
 * redacting the values from what it returns, throws, heartbeats and logs. `secretParams`: the
 * declarations of the kinds these activities serve; the built-in kinds' by default.
 */
export function withSecretParams<T extends Record<string, (input: StepInput) => Promise<StepOutput>>>(
  activities: T,
  reveal: RevealSecret,
  secretParams: StepSecretParams = STEP_SECRET_PARAMS,
): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (input: StepInput) => {
        const { params, revealed } = await resolveSecretParams(input.step, secretParams[name] ?? [], reveal);
        const run = () => activity({ ...input, step: { ...input.step, params } });
        if (revealed.size === 0) return run();
        redactHeartbeats(revealed);
        let output: StepOutput;
        try {
          output = await withRevealedSecrets(revealed, run);
        } catch (err) {
          throw redactError(err, revealed);
        }
        return redactPayload(output, revealed) as StepOutput;
      },
    ]),
  ) as T;
}

/** For a worker without a secret store: a reference fails the step with a clear reason. */
export const noSecrets: RevealSecret = async () => {
  throw new Error('is not available: this module worker has no SECRETS_KEYS');
};
