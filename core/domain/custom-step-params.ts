import { escapePointer, schemaErrors } from './json-schema';
import { isSecretReference, misplacedSecretReferences, paramPath, secretReferencesIn } from './secret-refs';
import type { StepDeclaration } from './step-declarations';
import { isBuiltInKind } from './step-kinds';

// A robot type's steps of custom kinds, checked against the step catalog at registration (built-in
// kinds keep their zod checks in core/domain/step-params.ts): the kind must be declared by some
// module, its params must match the declared params schema, and `{"$secret"}` references may sit
// only in the params the kind declares secret.

export interface StepProblem {
  /** The API's field name, e.g. `body.steps.1.params.amount`. */
  field: string;
  message: string;
}

type Step = { name: string; kind: string; params: Record<string, unknown> };

/** What a secret reference stands for when the params schema judges it: a string, like its value. */
const SECRET_STAND_IN = '[secret]';

function withStandIns(value: unknown): unknown {
  if (isSecretReference(value)) return SECRET_STAND_IN;
  if (Array.isArray(value)) return value.map(withStandIns);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withStandIns(item)]));
  }
  return value;
}

function stepProblems(
  step: Step,
  index: number,
  declaration: StepDeclaration | undefined,
  prefix: readonly (string | number)[],
): StepProblem[] {
  const at = [...prefix, 'steps', index];
  if (!declaration) {
    return [
      {
        field: [...at, 'kind'].join('.'),
        message: `no module has registered step kind ${step.kind}; register a module serving it first`,
      },
    ];
  }
  const allowed =
    declaration.secretParams.length > 0
      ? `only in ${declaration.secretParams.join(', ')}`
      : 'in none of its params';
  const misplaced = misplacedSecretReferences(step.params, declaration.secretParams).map((reference) => ({
    field: [...at, 'params', ...reference.path].join('.'),
    message:
      `step ${step.name}: param ${paramPath(reference.path)} may not hold a secret reference; ` +
      `a ${step.kind} step takes secrets ${allowed}`,
  }));
  // A reference is a string to the schema; what the value will be (its length, its pattern) is unknown.
  const references = new Set(
    secretReferencesIn(step.params).map(
      (reference) => `/${reference.path.map(String).map(escapePointer).join('/')}`,
    ),
  );
  const mismatches = schemaErrors(
    declaration.params,
    withStandIns(step.params),
    [...at, 'params'],
    (error) => references.has(error.instancePath) && error.keyword !== 'type',
  ).map(({ field, message }) => ({ field, message: `step ${step.name}: ${message}` }));
  return [...misplaced, ...mismatches];
}

/**
 * The problems of a type's custom-kind steps. `declarations` holds the current declaration of each
 * custom kind the steps use (core/domain/step-declarations.ts currentDeclaration); a kind missing
 * from it is in no module's registration.
 */
export function customStepProblems(
  steps: readonly Step[],
  declarations: ReadonlyMap<string, StepDeclaration>,
  prefix: readonly (string | number)[] = ['body'],
): StepProblem[] {
  return steps.flatMap((step, index) =>
    isBuiltInKind(step.kind) ? [] : stepProblems(step, index, declarations.get(step.kind), prefix),
  );
}
