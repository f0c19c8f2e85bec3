import { z } from 'zod';
import { jsonPointer } from './http-request.plan';
import { ROBOT_PRIORITIES } from './robot';
import { renderJson, TemplateError } from './template';

// Inbound webhook triggers (ADR 0048): a named trigger turns a signed request's JSON body into a
// robot's input, by JSON Pointers into the body or by a template over it. Pure: the API checks
// mappings with it when a trigger is written, and applies them when a hook arrives.

export const TRIGGER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const triggerName = z
  .string()
  .regex(TRIGGER_NAME, 'a trigger name: lowercase letters, digits and dashes, up to 63')
  .describe('The trigger name: its hook is POST /hooks/<name>');

const pointer = z
  .string()
  .max(500)
  .regex(/^(\/([^~/]|~[01])*)*$/, 'a JSON Pointer like /data/id (~0 for ~, ~1 for /)');

const fieldName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/, 'an input field name: letters, digits, _ and -');

// Template placeholders read `body.<path>` (the request's JSON) or `webhook.id` / `webhook.timestamp`.
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const ROOTS = new Set(['body', 'webhook']);

/** Every problem of a template's placeholders, with the JSON path of the string that has it. */
export function templateProblems(value: unknown, path = ''): string[] {
  if (typeof value === 'string') {
    const problems: string[] = [];
    for (const match of value.matchAll(PLACEHOLDER)) {
      const root = (match[1] ?? '').split('.')[0] ?? '';
      if (!ROOTS.has(root))
        problems.push(
          `${path || '/'}: {{${match[1]}}} must start with body or webhook (body.field, webhook.id)`,
        );
    }
    const rest = value.replace(PLACEHOLDER, '');
    if (rest.includes('{{') || rest.includes('}}'))
      problems.push(`${path || '/'}: a placeholder is malformed (use {{ body.path.to.field }})`);
    return problems;
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => templateProblems(item, `${path}/${index}`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => templateProblems(item, `${path}/${key}`));
  return [];
}

export const inputMappingSchema = z
  .object({
    pointers: z
      .record(fieldName, pointer)
      .refine((pointers) => Object.keys(pointers).length > 0, 'at least one field')
      .refine((pointers) => Object.keys(pointers).length <= 50, 'at most 50 fields')
      .optional(),
    template: z
      .record(z.string(), z.unknown())
      .superRefine((template, ctx) => {
        for (const message of templateProblems(template)) ctx.addIssue({ code: 'custom', message });
      })
      .optional(),
  })
  .strict()
  .refine(
    (mapping) => (mapping.pointers === undefined) !== (mapping.template === undefined),
    'give either pointers or template',
  )
  .nullable()
  .describe(
    'How the body becomes the robot input: {"pointers": {field: "/json/pointer"}}, or {"template": {...}} ' +
      'with {{ body.path }} and {{ webhook.id }} placeholders; null: the body itself (an object)',
  );

export type InputMapping = z.infer<typeof inputMappingSchema>;

export const createTriggerBody = z
  .object({
    name: triggerName,
    robotType: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z][a-z0-9-]*$/, 'a robot type name'),
    priority: z.enum(ROBOT_PRIORITIES).default('normal'),
    inputMapping: inputMappingSchema.default(null),
    secret: z
      .string()
      .max(200)
      .optional()
      .describe('Signing secret `whsec_<base64 of 24–64 bytes>`; generated when absent, shown once'),
  })
  .strict();

export const updateTriggerBody = z
  .object({
    robotType: createTriggerBody.shape.robotType.optional(),
    priority: z.enum(ROBOT_PRIORITIES).optional(),
    inputMapping: inputMappingSchema.optional(),
    secret: createTriggerBody.shape.secret,
    rotateSecret: z.literal(true).optional().describe('Generate a new signing secret (shown once)'),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'nothing to change')
  .refine((body) => !(body.secret && body.rotateSecret), 'give secret or rotateSecret, not both');

export type CreateTriggerBody = z.infer<typeof createTriggerBody>;
export type UpdateTriggerBody = z.infer<typeof updateTriggerBody>;

export type MappedInput = { ok: true; input: Record<string, unknown> } | { ok: false; message: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The robot input of one hook body; a missing field is a refusal naming it, never an empty value. */
export function mapInput(
  mapping: InputMapping,
  body: unknown,
  webhook: { id: string; timestamp: number },
): MappedInput {
  if (mapping === null) {
    return isObject(body)
      ? { ok: true, input: body }
      : { ok: false, message: 'the body must be a JSON object' };
  }
  if (mapping.pointers) {
    const input: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const [field, at] of Object.entries(mapping.pointers)) {
      const value = jsonPointer(body, at);
      if (value === undefined) missing.push(`${field} (${at || '""'})`);
      else input[field] = value;
    }
    if (missing.length > 0) return { ok: false, message: `the body has no value for ${missing.join(', ')}` };
    return { ok: true, input };
  }
  try {
    const input = renderJson(mapping.template, { body, webhook });
    return isObject(input) ? { ok: true, input } : { ok: false, message: 'the template must make an object' };
  } catch (err) {
    if (err instanceof TemplateError) return { ok: false, message: `the template: ${err.message}` };
    throw err;
  }
}
