import { completenessFromOutput } from './completeness';

// When an approval step waits for a person, and how a reviewer's corrections reach later steps.
// Pure and zod-free: the robot workflow runs this (its inputs are the outputs already in history).

/** `params.when` of an approval step: wait only when the condition holds. */
export interface ApprovalWhen {
  /** Wait when the robot's completeness score (the last step output with one) is below this. */
  completenessBelow: number;
}

export interface ApprovalNeed {
  wait: boolean;
  /** Why, in words: recorded in the step's output when it does not wait. */
  reason: string;
}

/**
 * Whether the approval waits. Without a score from an earlier step the answer is "wait": a
 * completeness nobody measured is not a high one.
 */
export function approvalNeeded(
  when: ApprovalWhen | undefined,
  outputs: Record<string, Record<string, unknown>>,
): ApprovalNeed {
  if (!when) return { wait: true, reason: 'always reviewed' };
  const score = completenessFromOutput(outputs);
  if (score === undefined) return { wait: true, reason: 'no earlier step reported a completeness score' };
  return score < when.completenessBelow
    ? { wait: true, reason: `completeness ${score} is below ${when.completenessBelow}` }
    : { wait: false, reason: `completeness ${score} is not below ${when.completenessBelow}` };
}

/** A field the reviewer set: the extraction's field shape, marked as corrected. */
export interface CorrectedField {
  value: unknown;
  confidence: 1;
  line: string;
  corrected: true;
}

/**
 * The earlier step's output with the reviewer's fields applied (`params.corrects` of an approval
 * step): each becomes `fields.<name>` in the extraction's shape and leaves `missing`, so steps after
 * the review (a validate `from` that step, templates) see the corrected values. The original output
 * is not changed in place.
 */
export function applyCorrections(
  output: Record<string, unknown>,
  corrections: Record<string, unknown>,
): Record<string, unknown> {
  const current =
    typeof output.fields === 'object' && output.fields !== null && !Array.isArray(output.fields)
      ? (output.fields as Record<string, unknown>)
      : {};
  const fields: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(corrections)) {
    const before = current[name] as { line?: unknown } | null | undefined;
    const line = typeof before?.line === 'string' ? before.line : '';
    fields[name] = { value, confidence: 1, line, corrected: true } satisfies CorrectedField;
  }
  const missing = Array.isArray(output.missing)
    ? output.missing.filter((name) => !Object.hasOwn(corrections, String(name)))
    : undefined;
  return { ...output, fields, ...(missing ? { missing } : {}) };
}
