import { z } from 'zod';
import { inputSchemaProblem } from './robot-input';
import { misplacedSecretReferences, paramPath } from './secret-refs';
import { isBuiltInKind, STEP_SECRET_PARAMS, type StepKind } from './step-kinds';

// Parameters of step kinds that are checked at registration (a clear 400 instead of a robot that
// fails later). The workflow reads `approval.when`/`corrects`; modules read the others.

/** `params.when` of an approval step (core/domain/approval-condition.ts evaluates it). */
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

/** `params.message` of a notify step: a template (core/domain/template.ts) over robotId, input, previous. */
export const NOTIFY_MESSAGE_MAX = 2000;

/** http-request: the JSON output fields a step may put into history (picked, or the whole body). */
export const HTTP_MAX_RESPONSE_BYTES = 1024 * 1024;
export const HTTP_DEFAULT_RESPONSE_BYTES = 256 * 1024;
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** Output fields of an http-request step that `pick` may not take. */
export const HTTP_RESERVED_OUTPUTS = ['status', 'body'] as const;
// Set by the step from the body and the connection; a param setting them would contradict it.
const HTTP_RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
]);

const secretReference = z.object({ $secret: z.string().min(1).max(200) }).strict();
/** A text param value: a template, or a secret reference the module resolves (header, form field). */
const textOrSecret = z.union([z.string().max(8192), secretReference]);

/** An `acceptStatus` entry: 204, "2xx" or "200-299". */
const acceptStatusEntry = z.union([z.number(), z.string()]).superRefine((entry, ctx) => {
  // One check with its own messages: a union of refined members would only say "Invalid input".
  if (typeof entry === 'number') {
    if (!Number.isInteger(entry) || entry < 100 || entry > 599)
      ctx.addIssue({ code: 'custom', message: 'a status from 100 to 599' });
    return;
  }
  if (/^[1-5]xx$/.test(entry)) return;
  const range = /^([1-5]\d\d)-([1-5]\d\d)$/.exec(entry);
  if (!range) ctx.addIssue({ code: 'custom', message: 'a status (204), a class (2xx) or a range (200-299)' });
  else if (Number(range[1]) > Number(range[2]))
    ctx.addIssue({ code: 'custom', message: 'the range must not run backwards' });
});

/** Record keys checked with their own messages (zod reports a bad key only as "Invalid key in record"). */
function keysMatch(
  pattern: RegExp,
  message: string,
  refuse: (key: string) => string | undefined = () => undefined,
) {
  return (record: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const key of Object.keys(record)) {
      const problem = pattern.test(key) ? refuse(key) : message;
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  };
}

/**
 * `params` of an http-request step. Checked at registration and again by the module (a workflow
 * started by hand skips registration); defaults are filled in by the module's parse.
 */
export const httpRequestParamsSchema = z
  .object({
    method: z.enum(HTTP_METHODS).default('GET'),
    // Literal scheme: a template may fill in host, path and query, never switch to another protocol.
    url: z
      .string()
      .min(8)
      .max(2048)
      .regex(/^https?:\/\//i, 'must start with http:// or https://'),
    headers: z
      .record(z.string(), textOrSecret)
      .superRefine(
        keysMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, 'not a header name (letters, digits, -)', (name) =>
          HTTP_RESERVED_HEADERS.has(name.toLowerCase())
            ? `may not set ${name}: the step sets ${[...HTTP_RESERVED_HEADERS].join(', ')} itself`
            : undefined,
        ),
      )
      .refine((headers) => Object.keys(headers).length <= 50, 'at most 50 headers')
      .default({}),
    /** JSON sent as is, with templates in its strings. */
    body: z.unknown().optional(),
    /** Sent url-encoded. */
    form: z
      .record(z.string().min(1).max(200), z.union([textOrSecret, z.number(), z.boolean()]))
      .refine((form) => Object.keys(form).length <= 200, 'at most 200 fields')
      .optional(),
    timeoutSeconds: z.number().min(1).max(300).default(30),
    acceptStatus: z.array(acceptStatusEntry).min(1).max(20).default(['2xx']),
    /** Output field → JSON Pointer (RFC 6901) into the response JSON. */
    pick: z
      .record(
        z.string(),
        z
          .string()
          .max(500)
          .regex(/^(\/([^~/]|~[01])*)*$/, 'a JSON Pointer like /data/id (~0 for ~, ~1 for /)'),
      )
      .superRefine(
        keysMatch(
          /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/,
          'an output field name: letters, digits, _ and -',
          (field) =>
            (HTTP_RESERVED_OUTPUTS as readonly string[]).includes(field)
              ? `${HTTP_RESERVED_OUTPUTS.join(' and ')} are the step's own output fields`
              : undefined,
        ),
      )
      .refine((pick) => Object.keys(pick).length <= 50, 'at most 50 fields')
      .optional(),
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .max(HTTP_MAX_RESPONSE_BYTES)
      .default(HTTP_DEFAULT_RESPONSE_BYTES),
  })
  .strict()
  .refine((params) => params.body === undefined || params.form === undefined, {
    message: 'body and form are exclusive: a request has one body',
    path: ['form'],
  })
  .refine((params) => params.method !== 'GET' || (params.body === undefined && params.form === undefined), {
    message: 'a GET request has no body',
    path: ['method'],
  });
export type HttpRequestParams = z.output<typeof httpRequestParamsSchema>;

const approvalCorrectsSchema = z.string().min(1).max(63);
const notifyMessageSchema = z.string().trim().min(1).max(NOTIFY_MESSAGE_MAX);
const emailAttachmentsSchema = z.array(z.string().min(1).max(200)).max(MAX_EMAIL_ATTACHMENTS);

/**
 * The params schema of each kind that has checked params, as the step catalog publishes it
 * (GET /v1/step-kinds). Loose objects where registration checks only some params: the others are
 * read by the step itself, and a closed schema would claim they are refused.
 */
export const STEP_PARAMS_SCHEMAS: Readonly<Partial<Record<StepKind, z.ZodType>>> = {
  approval: z.looseObject({
    when: approvalWhenSchema.optional(),
    corrects: approvalCorrectsSchema
      .optional()
      .describe('An earlier step whose output the corrections amend'),
  }),
  notify: z.looseObject({ message: notifyMessageSchema }),
  'send-email': z.looseObject({ attachments: emailAttachmentsSchema.optional() }),
  'http-request': httpRequestParamsSchema,
};

type Step = { kind: string; params: Record<string, unknown>; timeoutSeconds?: number };

function issues(result: z.ZodSafeParseResult<unknown>, ctx: z.RefinementCtx, param: string): void {
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', path: ['params', param, ...issue.path], message: issue.message });
  }
}

function refineHttpRequest(step: Step, ctx: z.RefinementCtx): void {
  const result = httpRequestParamsSchema.safeParse(step.params);
  if (!result.success) {
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', path: ['params', ...issue.path], message: issue.message });
    return;
  }
  // The step's activity times out first otherwise, as a retried timeout instead of the request's own.
  if (step.timeoutSeconds !== undefined && result.data.timeoutSeconds > step.timeoutSeconds) {
    ctx.addIssue({
      code: 'custom',
      path: ['params', 'timeoutSeconds'],
      message: `must not exceed the step's timeoutSeconds (${step.timeoutSeconds})`,
    });
  }
}

/** Checks the parameters of one step whose kind has checked parameters. */
export function refineStepParams(step: Step, ctx: z.RefinementCtx): void {
  const { params } = step;
  if (step.kind === 'approval') {
    if (params.when !== undefined) issues(approvalWhenSchema.safeParse(params.when), ctx, 'when');
    if (params.corrects !== undefined)
      issues(approvalCorrectsSchema.safeParse(params.corrects), ctx, 'corrects');
  }
  if (step.kind === 'notify') issues(notifyMessageSchema.safeParse(params.message), ctx, 'message');
  if (step.kind === 'http-request') refineHttpRequest(step, ctx);
  if (step.kind === 'send-email' && params.attachments !== undefined) {
    issues(emailAttachmentsSchema.safeParse(params.attachments), ctx, 'attachments');
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
    // A custom kind declares its secret params at its module's registration: checked against the catalog.
    if (!isBuiltInKind(step.kind)) continue;
    const declared = STEP_SECRET_PARAMS[step.kind];
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
