import { z } from 'zod';
import { STEP_KINDS } from './step-kinds';

// A robot type is a versioned pipeline. Its definition is passed into the workflow at start
// so a run stays deterministic even if the type changes later.

export { moduleStepKinds, STEP_KINDS, type StepKind, WORKFLOW_STEP_KINDS } from './step-kinds';

export const stepDefinitionSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  kind: z.enum(STEP_KINDS),
  params: z.record(z.string(), z.unknown()).default({}),
  timeoutSeconds: z.number().int().min(1).max(86_400).default(60),
});
export type StepDefinition = z.infer<typeof stepDefinitionSchema>;

export const robotTypeDefinitionSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/),
  version: z.number().int().min(1),
  description: z.string().max(500).default(''),
  steps: z.array(stepDefinitionSchema).min(1).max(100),
});
export type RobotTypeDefinition = z.infer<typeof robotTypeDefinitionSchema>;

const builtIn: RobotTypeDefinition[] = [
  robotTypeDefinitionSchema.parse({
    name: 'demo',
    version: 1,
    description:
      'Proves the path: validates the input, classifies its text, waits briefly, builds a summary.',
    steps: [
      { name: 'validate-input', kind: 'validate', params: { required: ['text'] } },
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
    steps: [
      { name: 'first', kind: 'noop' },
      { name: 'second', kind: 'noop' },
      { name: 'third', kind: 'noop' },
    ],
  }),
  robotTypeDefinitionSchema.parse({
    name: 'invoice-intake',
    version: 1,
    description:
      'Reads an uploaded invoice or receipt (input.documentId, from POST /v1/documents), extracts its fields and checks the essential ones.',
    // Notification and approval steps join this pipeline when those step kinds exist.
    steps: [
      { name: 'read-document', kind: 'ocr', timeoutSeconds: 600 },
      { name: 'extract-fields', kind: 'extract', params: { from: 'read-document' } },
      {
        name: 'check-fields',
        kind: 'validate',
        params: {
          from: 'extract-fields',
          required: ['fields.vendor', 'fields.date', 'fields.total', 'fields.currency'],
        },
      },
    ],
  }),
];

const byName = new Map(builtIn.map((type) => [type.name, type]));

export function builtInRobotTypes(): readonly RobotTypeDefinition[] {
  return builtIn;
}

export function findBuiltInRobotType(name: string): RobotTypeDefinition | undefined {
  return byName.get(name);
}
