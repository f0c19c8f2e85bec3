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
 * The version of the built-in kinds' contracts, and of the module build that serves them
 * (workers/module.worker.ts): the step catalog shows it as each built-in kind's version.
 */
export const BUILT_IN_STEPS_VERSION = '0.1.0';

/** What each built-in kind does, as the step catalog says it (docs/steps.md has the details). */
export const STEP_DESCRIPTIONS: Readonly<Record<StepKind, string>> = {
  validate: 'Checks that params.required input fields (or fields of params.from) are present',
  classify: 'Picks a category of params.categories by keywords in the input field params.field',
  transform: 'Builds a summary of the input fields params.fields',
  noop: 'Does nothing (input.holdMs holds the module that long: tests, benchmarks)',
  delay: 'A durable timer of params.ms (the workflow runs it)',
  approval: "Waits for a person's verdict; params.when makes it conditional (the workflow runs it)",
  'send-email': 'Sends one templated email per robot and step, optionally with documents attached',
  ocr: 'Reads the text of a document (image or PDF)',
  extract: 'Extracts invoice fields from the text the ocr step read',
  notify: 'Tells the subscribers of robot.notified a templated message (the control worker runs it)',
  'http-request': 'One templated HTTP request per robot and step; statuses, retries, picked output',
};

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
