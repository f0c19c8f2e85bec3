import { z } from 'zod';
import { objectSchemaProblem } from './json-schema';
import { compareSemver } from './semver';
import {
  BUILT_IN_STEPS_VERSION,
  isBuiltInKind,
  isWorkflowStepKind,
  STEP_DESCRIPTIONS,
  STEP_SECRET_PARAMS,
  type StepKind,
} from './step-kinds';
import { STEP_PARAMS_SCHEMAS } from './step-params';

// What a module says about each step kind it serves when it registers (POST /v1/modules `steps`):
// the kind's contract version, JSON Schemas of its params, of the robot data it reads and of its
// output, and which params may hold secret references. The step catalog publishes them and robot
// types are checked against them (docs/api.md, Modules).

export interface StepDeclaration {
  kind: string;
  /** Semver of the kind's contract: one major per kind across active modules. */
  version: string;
  description: string;
  params: Record<string, unknown>;
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  secretParams: string[];
}

/** A declaration as stored: which module made it, and whether that module is active. */
export interface DeclaredStepKind extends StepDeclaration {
  moduleName: string;
  moduleActive: boolean;
  updatedAt: Date;
}

/** Any JSON object: the schema of what a declaration leaves out. */
export const ANY_OBJECT_SCHEMA: Readonly<Record<string, unknown>> = { type: 'object' };

/** Params as a caller writes them (`io: 'input'`: defaulted params are optional); `{}` when unchecked. */
export function builtInParamsSchema(kind: StepKind): Record<string, unknown> {
  const schema = STEP_PARAMS_SCHEMAS[kind];
  // Refinements (header names, status ranges) have no JSON Schema form; registration still runs them.
  return schema ? z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) : {};
}

/** A built-in kind as the module worker of this project declares it. */
export function builtInDeclaration(kind: StepKind): StepDeclaration {
  return {
    kind,
    version: BUILT_IN_STEPS_VERSION,
    description: STEP_DESCRIPTIONS[kind],
    params: builtInParamsSchema(kind),
    input: { ...ANY_OBJECT_SCHEMA },
    output: { ...ANY_OBJECT_SCHEMA },
    secretParams: [...STEP_SECRET_PARAMS[kind]],
  };
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((item) => b.includes(item));

type DeclaredSchemas = {
  kind: string;
  params?: Record<string, unknown>;
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
  secretParams?: string[];
};

const SCHEMA_SUBJECTS = {
  params: "a step's params are",
  input: 'the robot data a step reads is',
  output: "a step's output is",
} as const;

/**
 * What registration checks of the declarations beyond their shape: each kind once, none the
 * workflow runs itself, schemas Ajv compiles, and a built-in kind's secret params as built in (the
 * module worker resolves references only there, so a module cannot widen them).
 */
export function refineStepDeclarations(body: { steps?: DeclaredSchemas[] }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [index, step] of (body.steps ?? []).entries()) {
    const problem = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path: ['steps', index, ...path], message });
    if (seen.has(step.kind)) problem(['kind'], `${step.kind} is declared twice; declare each kind once`);
    seen.add(step.kind);
    if (isWorkflowStepKind(step.kind)) {
      problem(['kind'], `${step.kind} runs in the workflow, not on a module`);
      continue;
    }
    for (const part of ['params', 'input', 'output'] as const) {
      const schema = step[part];
      const why = schema ? objectSchemaProblem(schema, SCHEMA_SUBJECTS[part]) : null;
      if (why) problem([part], `not a usable JSON Schema: ${why}`);
    }
    if (isBuiltInKind(step.kind) && step.secretParams !== undefined) {
      const builtIn = STEP_SECRET_PARAMS[step.kind];
      if (!sameSet(step.secretParams, builtIn)) {
        problem(
          ['secretParams'],
          `${step.kind} is built in and takes secrets in ${builtIn.length > 0 ? builtIn.join(', ') : 'none of its params'}; leave secretParams out or declare exactly that`,
        );
      }
    }
  }
}

/**
 * The declaration the catalog shows for a kind and robot types are checked against: the highest
 * version among active modules (the newest on a tie), else among all when none is active.
 */
export function currentDeclaration(declared: readonly DeclaredStepKind[]): DeclaredStepKind | undefined {
  const active = declared.filter((declaration) => declaration.moduleActive);
  const pool = active.length > 0 ? active : declared;
  let best: DeclaredStepKind | undefined;
  for (const candidate of pool) {
    const order = best ? compareSemver(candidate.version, best.version) : 1;
    if (!best || order > 0 || (order === 0 && candidate.updatedAt > best.updatedAt)) best = candidate;
  }
  return best;
}
