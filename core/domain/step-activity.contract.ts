import type { StepDefinition } from './robot-types';

// The contract of a step activity, below both sides: what the robot workflow sends to a module's
// task queue and what comes back. Our module worker's steps, the secret-params wrapper and modules
// in other languages (docs/modules.md) all take and return these shapes.

/** What every step activity receives: ids and small JSON, never document bytes. */
export interface StepInput {
  robotId: string;
  step: StepDefinition;
  input: Record<string, unknown>;
  /** Outputs of the steps before this one, by step name. */
  previous: Record<string, Record<string, unknown>>;
}

export type StepOutput = Record<string, unknown>;
