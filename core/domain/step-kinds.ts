// Step kinds without zod, so workflow code can use them too (the robot-type schemas need zod).

export const STEP_KINDS = [
  'validate',
  'classify',
  'transform',
  'noop',
  'delay',
  'approval',
  'send-email',
  'ocr',
  'extract',
  'notify',
  'http-request',
] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/**
 * A custom kind, served by a user's module (docs/modules.md): dotted, so it can never collide with a
 * built-in kind, like `ledger.post` or `acme.crm-lookup`.
 */
export const CUSTOM_KIND_PATTERN = /^[a-z][a-z0-9-]{0,39}(\.[a-z][a-z0-9-]{0,39}){1,3}$/;
export const CUSTOM_KIND_MESSAGE =
  'a built-in kind, or a custom kind: dotted lowercase words like ledger.post (letters, digits, dashes)';

export function isBuiltInKind(kind: string): kind is StepKind {
  return (STEP_KINDS as readonly string[]).includes(kind);
}

export function isCustomKind(kind: string): boolean {
  return CUSTOM_KIND_PATTERN.test(kind);
}

/**
 * The params of each kind that may hold `{"$secret": name}` references: the module resolves
 * references there and nowhere else, and registration refuses them anywhere else (ADR 0014). A
 * param listed here is one the step sends to another system and never echoes: `http-request`'s
 * headers and bodies. The other built-in kinds have none (validate, transform or send-email would put
 * the value into an error message, an output or an email).
 */
export const STEP_SECRET_PARAMS: Readonly<Record<StepKind, readonly string[]>> = {
  validate: [],
  classify: [],
  transform: [],
  noop: [],
  delay: [],
  approval: [],
  'send-email': [],
  ocr: [],
  extract: [],
  notify: [],
  'http-request': ['headers', 'body', 'form'],
};

/**
 * Steps the workflow runs itself (timers, waits for people) or on the control queue (`notify`: the
 * notifier and its delivery rows live there); all others are activities on a module queue.
 */
export const WORKFLOW_STEP_KINDS: readonly StepKind[] = ['delay', 'approval', 'notify'];

/** Step kinds a module can run. */
export const MODULE_STEP_KINDS: readonly StepKind[] = STEP_KINDS.filter(
  (kind) => !WORKFLOW_STEP_KINDS.includes(kind),
);

/** The distinct module step kinds a pipeline needs, in order of first use. */
export function moduleStepKinds(steps: readonly { kind: string }[]): string[] {
  return [...new Set(steps.map((step) => step.kind).filter((kind) => !isWorkflowStepKind(kind)))];
}

/** Kinds the workflow runs itself; every other kind, built-in or custom, runs on a module. */
export function isWorkflowStepKind(kind: string): boolean {
  return (WORKFLOW_STEP_KINDS as readonly string[]).includes(kind);
}
