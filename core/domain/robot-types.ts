import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './durations';

const MAX_WAIT_MS = 365 * 86_400_000;

import { emailIntakeType } from './email-intake.type';
import { DEFAULT_INVOICE_APPROVAL_BELOW, invoiceIntakeType } from './invoice-intake.type';
import { CUSTOM_KIND_MESSAGE, CUSTOM_KIND_PATTERN, isBuiltInKind } from './step-kinds';
import {
  refineInputSchema,
  refineSecretReferences,
  refineStepParams,
  refineStepReferences,
} from './step-params';

// A robot type is a versioned pipeline. Its definition is passed into the workflow at start
// so a run stays deterministic even if the type changes later.

export { moduleStepKinds, STEP_KINDS, type StepKind, WORKFLOW_STEP_KINDS } from './step-kinds';

/** A step's activity retry policy; without one, 3 attempts from 1 s backing off to 20 s. */
export const stepRetrySchema = z
  .object({
    maximumAttempts: z.number().int().min(1).max(100),
    initialIntervalSeconds: z.number().min(0.1).max(3600).default(1),
    maximumIntervalSeconds: z.number().min(0.1).max(86_400).default(20),
    backoffCoefficient: z.number().min(1).max(10).default(2),
  })
  .strict();
export type StepRetry = z.infer<typeof stepRetrySchema>;

export const stepDefinitionSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
    /** Built-in, or custom (dotted) and served by a registered module: checked against the catalog. */
    kind: z
      .string()
      .max(163)
      .refine((kind) => isBuiltInKind(kind) || CUSTOM_KIND_PATTERN.test(kind), CUSTOM_KIND_MESSAGE),
    params: z.record(z.string(), z.unknown()).default({}),
    timeoutSeconds: z.number().int().min(1).max(86_400).default(60),
    retry: stepRetrySchema.optional(),
    /** Fields the step's output must have; a step that returns without them fails the robot. */
    requiredOutputs: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .superRefine((step, ctx) => {
    refineStepParams(step, ctx);
    // Approval waits are read by the workflow: a bad one must be refused at registration.
    if (step.kind !== 'approval') return;
    for (const param of ['timeout', 'escalationTimeout']) {
      const value = step.params[param];
      if (value === undefined) continue;
      const ms = parseDuration(value) ?? 0;
      if (ms < 1000 || ms > MAX_WAIT_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['params', param],
          message: 'must be a duration from 1s to 365d, like 30s, 15m, 24h or 7d',
        });
      }
    }
  });
export type StepDefinition = z.infer<typeof stepDefinitionSchema>;

const robotTypeFields = {
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter'),
  description: z.string().max(500).default(''),
  steps: z.array(stepDefinitionSchema).min(1).max(100),
  /** JSON Schema of a robot's input, checked at creation (core/robot-input.ts); absent: any object. */
  inputSchema: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "JSON Schema (draft 2020-12 or draft-07) of the robots' input; POST /v1/robots refuses input that does not match",
    ),
  /** Default SLA of its robots (docs/sla.md), like `4h`; a robot's own deadline or sla overrides it. */
  sla: z
    .string()
    .regex(DURATION_PATTERN, 'a duration like 90s, 30m, 4h or 2d')
    .refine((value) => {
      const ms = parseDuration(value) ?? 0;
      return ms >= 1000 && ms <= MAX_WAIT_MS;
    }, 'must be a duration from 1s to 365d')
    .optional(),
  /**
   * How long one step of a robot may wait for an eligible module before the robot fails (NoModule,
   * `no eligible module within N s …`); paused time does not count. Without it the robot waits
   * `pending` until a module comes (docs/api.md#robot-types, ADR 0052).
   */
  maxPendingSeconds: z
    .number()
    .int()
    .min(1)
    .max(MAX_WAIT_MS / 1000)
    .optional()
    .describe(
      'Seconds one step of a robot may wait for an eligible module before the robot fails with "no eligible module within N s" (1 to 31536000; counted per step, paused time left out); without it the robot waits pending until one comes',
    ),
  /**
   * Days after a robot of this type finished before the cleanup purges it, with its executions and
   * sent emails (docs/adr/0050-retention.md); without it ROBOT_RETENTION_DAYS.
   */
  retentionDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .describe(
      'Days after a robot of this type finished before it is purged with its executions (1 to 3650); without it the deployment default (ROBOT_RETENTION_DAYS, 30)',
    ),
};

function uniqueStepNames(type: { steps: StepDefinition[] }, ctx: z.RefinementCtx): void {
  refineStepReferences(type, ctx);
  // Outputs are keyed by step name: a repeated name would overwrite an earlier step's output.
  const seen = new Set<string>();
  for (const [index, step] of type.steps.entries()) {
    if (seen.has(step.name))
      ctx.addIssue({ code: 'custom', path: ['steps', index, 'name'], message: 'step names must be unique' });
    seen.add(step.name);
  }
}

const definitionFields = z.object({ ...robotTypeFields, version: z.number().int().min(1) });

export const robotTypeDefinitionSchema = definitionFields
  .superRefine(uniqueStepNames)
  .superRefine(refineSecretReferences);

/**
 * A registered type as read back: rows written before kinds declared their secret params stay
 * readable (a misplaced reference then fails its step at the module, unresolved).
 */
export const storedRobotTypeSchema = definitionFields.superRefine(uniqueStepNames);

/** `POST /v1/robot-types`: a definition without its version, which the registry assigns. */
export const robotTypeRegistrationSchema = z
  .object(robotTypeFields)
  .strict()
  .superRefine(uniqueStepNames)
  .superRefine(refineSecretReferences)
  .superRefine(refineInputSchema);
export type RobotTypeRegistration = z.infer<typeof robotTypeRegistrationSchema>;
export type RobotTypeDefinition = z.infer<typeof robotTypeDefinitionSchema>;

/** The built-in types, with the configured threshold of invoice-intake's review. */
/** `demo` and `approval-demo` take a text and check it first. */
const TEXT_INPUT_SCHEMA = {
  type: 'object',
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1 } },
};
const VALIDATE_TEXT_STEP = { name: 'validate-input', kind: 'validate', params: { required: ['text'] } };

const builtInDefinitions = (invoiceApprovalBelow: number): RobotTypeDefinition[] => [
  robotTypeDefinitionSchema.parse({
    name: 'demo',
    version: 1,
    description:
      'Proves the path: validates the input, classifies its text, waits briefly, builds a summary.',
    inputSchema: TEXT_INPUT_SCHEMA,
    steps: [
      VALIDATE_TEXT_STEP,
      {
        name: 'classify-text',
        kind: 'classify',
        params: {
          field: 'text',
          categories: {
            invoice: ['invoice', 'total', 'amount due', 'vat'],
            complaint: ['complaint', 'refund', 'broken', 'angry'],
            order: ['order', 'purchase', 'quantity'],
          },
        },
      },
      { name: 'short-pause', kind: 'delay', params: { ms: 200 } },
      { name: 'summarize', kind: 'transform', params: { fields: ['text'] } },
    ],
  }),
  robotTypeDefinitionSchema.parse({
    name: 'noop-pipeline',
    version: 1,
    description:
      'Three no-op steps; `holdMs` in the input makes each hold its module that long (tests, benchmarks).',
    inputSchema: {
      type: 'object',
      properties: { holdMs: { type: 'number', minimum: 0, maximum: 3_600_000 } },
    },
    steps: [
      { name: 'first', kind: 'noop' },
      { name: 'second', kind: 'noop' },
      { name: 'third', kind: 'noop' },
    ],
  }),
  robotTypeDefinitionSchema.parse({
    name: 'email-reply',
    version: 1,
    description:
      'Answers a message: checks the input, then sends a templated reply (send-email; needs a module with SMTP_URL).',
    inputSchema: {
      type: 'object',
      // subject too: the reply's template reads it.
      required: ['to', 'name', 'subject', 'text'],
      properties: {
        to: { type: 'string', minLength: 1 },
        name: { type: 'string', minLength: 1 },
        subject: { type: 'string' },
        text: { type: 'string', minLength: 1 },
      },
    },
    steps: [
      { name: 'validate-input', kind: 'validate', params: { required: ['to', 'name', 'text'] } },
      {
        name: 'send-reply',
        kind: 'send-email',
        params: {
          to: '{{input.to}}',
          subject: 'Re: {{input.subject}}',
          text: 'Hello {{input.name}},\n\nwe received your message:\n\n{{input.text}}\n\nRobot {{robotId}}',
        },
      },
    ],
  }),
  robotTypeDefinitionSchema.parse({
    name: 'approval-demo',
    version: 1,
    description:
      'A person checks the data between validation and summary: approve with corrected fields, or reject.',
    inputSchema: TEXT_INPUT_SCHEMA,
    steps: [
      VALIDATE_TEXT_STEP,
      { name: 'review', kind: 'approval' },
      { name: 'summarize', kind: 'transform', params: { fields: ['text'] } },
    ],
  }),
  robotTypeDefinitionSchema.parse(invoiceIntakeType(invoiceApprovalBelow)),
  robotTypeDefinitionSchema.parse(emailIntakeType),
];

/** The built-in robot types of one deployment: in code, with its configuration applied. */
export interface BuiltInRobotTypes {
  readonly all: readonly RobotTypeDefinition[];
  find(name: string): RobotTypeDefinition | undefined;
}

/**
 * Made once per process from configuration (INVOICE_APPROVAL_BELOW) and handed to whoever resolves
 * robot types. Robots snapshot their type's definition when they start, so a run keeps the threshold
 * it started with.
 */
export function createBuiltInRobotTypes(
  options: { invoiceApprovalBelow: number } = { invoiceApprovalBelow: DEFAULT_INVOICE_APPROVAL_BELOW },
): BuiltInRobotTypes {
  const all = builtInDefinitions(options.invoiceApprovalBelow);
  const byName = new Map(all.map((type) => [type.name, type]));
  return { all, find: (name) => byName.get(name) };
}
