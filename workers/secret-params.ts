import { ApplicationFailure } from '@temporalio/activity';
import { FAILURE_TYPES } from '../core/failure-types';
import type { StepInput, StepOutput } from '../core/step-activity';

// Step params may hold `{"$secret": "name"}`. The value is looked up here, inside the activity on
// the module worker, just before the step runs: workflow arguments and history only ever carry the
// reference, never the value (ADR 0014).

export type RevealSecret = (name: string) => Promise<string | null>;

const isReference = (value: unknown): value is { $secret: string } =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  typeof (value as { $secret?: unknown }).$secret === 'string';

async function resolve(value: unknown, reveal: RevealSecret): Promise<unknown> {
  if (isReference(value)) {
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
    return secret;
  }
  if (Array.isArray(value)) return Promise.all(value.map((item) => resolve(item, reveal)));
  if (value !== null && typeof value === 'object') {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await resolve(item, reveal)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

/** The same activities, each resolving secret references in its step's params first. */
export function withSecretParams<T extends Record<string, (input: StepInput) => Promise<StepOutput>>>(
  activities: T,
  reveal: RevealSecret,
): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (input: StepInput) =>
        activity({
          ...input,
          step: {
            ...input.step,
            params: (await resolve(input.step.params, reveal)) as StepInput['step']['params'],
          },
        }),
    ]),
  ) as T;
}

/** For a worker without a secret store: a reference fails the step with a clear reason. */
export const noSecrets: RevealSecret = async () => {
  throw new Error('is not available: this module worker has no SECRETS_KEYS');
};
