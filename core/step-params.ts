import { z } from 'zod';
import { inputSchemaProblem } from './robot-input';
import { misplacedSecretReferences, paramPath } from './secret-refs';
import { STEP_SECRET_PARAMS, type StepKind } from './step-kinds';

// Parameters of step kinds that are checked at registration (a clear 400 instead of a robot that
// fails later). The workflow reads `approval.when`/`corrects`; modules read the others.

/** `params.when` of an approval step (core/approval-condition.ts evaluates it). */
export const approvalWhenSchema = z
  .object({
    completenessBelow: z
      .number()
      .gt(0)
      .max(1)
      .describe('Wait for a person only when the completeness score is below this (0–1)'),
  })
  .strict();

/** Attachments per email and their total size (send-email `params.attachments`). */
export const MAX_EMAIL_ATTACHMENTS = 10;

/** `params.message` of a notify step: a template (core/template.ts) over robotId, input, previous. */
export const NOTIFY_MESSAGE_MAX = 2000;

type Step = { kind: string; params: Record<string, unknown> };

function issues(result: z.ZodSafeParseResult<unknown>, ctx: z.RefinementCtx, param: string): void {
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: ['params', param, ...issue.path], message: issue.message });
  }
}

/** Checks the parameters of one step whose kind has checked parameters. */
export function refineStepParams(step: Step, ctx: z.RefinementCtx): void {
  const { params } = step;
  if (step.kind === 'approval') {
    if (params.when !== undefined) issues(approvalWhenSchema.safeParse(params.when), ctx, 'when');
    if (params.corrects !== undefined)
      issues(z.string().min(1).max(63).safeParse(params.corrects), ctx, 'corrects');
  }
  if (step.kind === 'notify')
    issues(z.string().trim().min(1).max(NOTIFY_MESSAGE_MAX).safeParse(params.message), ctx, 'message');
  if (step.kind === 'send-email' && params.attachments !== undefined) {
    issues(
      z.array(z.string().min(1).max(200)).max(MAX_EMAIL_ATTACHMENTS).safeParse(params.attachments),
      ctx,
      'attachments',
    );
  }
}

/** An approval's `corrects` must name an earlier step: its output is what the corrections amend. */
export function refineStepReferences(
  type: { steps: (Step & { name: string })[] },
  ctx: z.RefinementCtx,
): void {
  const earlier = new Set<string>();
  for (const [index, step] of type.steps.entries()) {
    const target = step.kind === 'approval' ? step.params.corrects : undefined;
    if (typeof target === 'string' && !earlier.has(target)) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', index, 'params', 'corrects'],
        message: `must name an earlier step; no step ${JSON.stringify(target)} comes before ${step.name}`,
      });
    }
    earlier.add(step.name);
  }
}

/**
 * `{"$secret": name}` only in the params each step's kind declares secret (ADR 0014): anywhere else
 * the step could echo the value into an error, an output or an email.
 */
export function refineSecretReferences(
  type: { steps: (Step & { name: string })[] },
  ctx: z.RefinementCtx,
): void {
  for (const [index, step] of type.steps.entries()) {
    const declared = STEP_SECRET_PARAMS[step.kind as StepKind] ?? [];
    const allowed = declared.length > 0 ? `only in ${declared.join(', ')}` : 'in none of its params';
    for (const reference of misplacedSecretReferences(step.params, declared)) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', index, 'params', ...reference.path],
        message:
          `step ${step.name}: param ${paramPath(reference.path)} may not hold a secret reference; ` +
          `a ${step.kind} step takes secrets ${allowed}`,
      });
    }
  }
}

/** The input schema must compile: it checks every robot of the type at creation (core/robot-input.ts). */
export function refineInputSchema(
  type: { inputSchema?: Record<string, unknown> },
  ctx: z.RefinementCtx,
): void {
  if (type.inputSchema === undefined) return;
  const problem = inputSchemaProblem(type.inputSchema);
  if (problem) ctx.addIssue({ code: 'custom', path: ['inputSchema'], message: problem });
}
