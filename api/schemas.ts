import { z } from 'zod';
import { secretProblem } from '../core/adapters/crypto/standard-webhooks';
import { SCOPES } from '../core/domain/api-key-scopes';
import { DURATION_PATTERN } from '../core/domain/durations';
import { ANY_TYPE } from '../core/domain/load-balancer';
import { NOTIFICATION_EVENTS } from '../core/domain/notification-events';
import { ROBOT_PRIORITIES, ROBOT_STATUSES } from '../core/domain/robot';
import { SEMVER_MESSAGE, SEMVER_PATTERN } from '../core/domain/semver';
import { EMAIL_ADDRESS } from '../core/domain/smtp';
import { ANY_OBJECT_SCHEMA, refineStepDeclarations } from '../core/domain/step-declarations';
import {
  CUSTOM_KIND_MESSAGE,
  isBuiltInKind,
  isCustomKind,
  MODULE_STEP_KINDS,
} from '../core/domain/step-kinds';
import { stripControlCharsDeep } from '../core/domain/text';

// One place for the API's request shapes: routes parse with them, the OpenAPI document is built from them.

export const createRobotBody = z
  .object({
    type: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[a-z][a-z0-9-]*$/, 'a robot type name: lowercase letters, digits and dashes')
      .describe('Robot type name, e.g. `demo`'),
    // Input text reaches logs and emails: control and invisible format characters are removed.
    input: z
      .record(z.string(), z.unknown())
      .default({})
      .transform((input) => stripControlCharsDeep(input) as Record<string, unknown>)
      .describe('Input data for the pipeline'),
    priority: z.enum(ROBOT_PRIORITIES).default('normal'),
    // Checked against the clock in the service (planSla): in the future, at most 365 days ahead.
    deadline: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the robot must be done (ISO 8601, 1 s to 365 d ahead); or give `sla`'),
    sla: z
      .string()
      .regex(DURATION_PATTERN, 'a duration like 90s, 30m, 4h or 2d')
      .optional()
      .describe("Time allowed from now, like `4h` (1s to 365d); default: the robot type's `sla`"),
  })
  .strict();
export type CreateRobotBody = z.infer<typeof createRobotBody>;

export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
  .optional();

export const robotIdParams = z.object({ id: z.uuid({ message: 'must be a robot id (UUID)' }) });

export const listRobotsQuery = z
  .object({
    status: z.enum(ROBOT_STATUSES).optional(),
    type: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'a robot type name: lowercase letters, digits and dashes')
      .optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListRobotsQuery = z.infer<typeof listRobotsQuery>;

export const listApprovalsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ListApprovalsQuery = z.infer<typeof listApprovalsQuery>;

const moduleName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, starting with a letter');

const jsonSchemaField = (what: string) =>
  z
    .record(z.string(), z.unknown())
    .default({ ...ANY_OBJECT_SCHEMA })
    .describe(`JSON Schema (draft 2020-12 or draft-07) of ${what}; default {"type":"object"}`);

/** One step kind a module serves, with its contract (docs/api.md, Modules). */
export const stepDeclarationBody = z
  .object({
    kind: z
      .string()
      .max(163)
      .refine((kind) => isBuiltInKind(kind) || isCustomKind(kind), CUSTOM_KIND_MESSAGE)
      .describe('A custom kind (dotted, like ledger.post) or a built-in module kind'),
    version: z
      .string()
      .regex(SEMVER_PATTERN, SEMVER_MESSAGE)
      .describe(
        "Semver of the kind's contract; a new major under the same kind is refused while another active module declares the old one",
      ),
    description: z.string().max(500).default(''),
    params: jsonSchemaField("the step's params"),
    input: jsonSchemaField('the robot data the step reads'),
    output: jsonSchemaField("the step's output"),
    secretParams: z
      .array(z.string().min(1).max(100))
      .max(50)
      .refine((names) => new Set(names).size === names.length, 'each param once')
      .optional()
      .describe(
        'Top-level params that may hold {"$secret": name} references; default none (a built-in kind: its own)',
      ),
  })
  .strict();
export type StepDeclarationBody = z.infer<typeof stepDeclarationBody>;

export const registerModuleBody = z
  .object({
    name: moduleName,
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version like 1.4.0'),
    supportedRobotTypes: z
      .array(z.string().regex(/^(\*|[a-z][a-z0-9-]{0,62})$/, 'a robot type name or *'))
      .min(1)
      .max(100)
      .default([ANY_TYPE]),
    steps: z.array(stepDeclarationBody).min(1).max(50).optional().describe('The kinds it serves, declared'),
    supportedSteps: z
      .array(z.string().max(63))
      .max(50)
      .optional()
      .describe('Legacy: built-in kinds it serves, without declarations'),
    capacity: z.number().int().min(1, 'must be at least 1').max(10_000),
  })
  .strict()
  .superRefine((body, ctx) => {
    const legacy = body.supportedSteps ?? [];
    if (legacy.length === 0 && body.steps === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps'],
        message: 'declare the kinds the module serves in steps (or list built-in ones in supportedSteps)',
      });
    }
    const unknown = legacy.filter((step) => !MODULE_STEP_KINDS.includes(step as never));
    if (unknown.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['supportedSteps'],
        message: `unknown: ${unknown.join(', ')}; known: ${MODULE_STEP_KINDS.join(', ')} (declare custom kinds in steps)`,
      });
    }
  })
  .superRefine(refineStepDeclarations);
export type RegisterModuleBody = z.infer<typeof registerModuleBody>;

export const moduleHeartbeatBody = z
  .object({
    replicaId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a replica id: letters, digits and . _ : -'),
    capacity: z.number().int().min(1).max(10_000),
  })
  .strict();

export const moduleNameParams = z.object({ name: moduleName });

export const moduleReplicaParams = z.object({
  name: moduleName,
  replicaId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'a replica id: letters, digits and . _ : -'),
});

export const stepKindParams = z.object({ kind: z.string().min(1).max(100) });

export const listModulesQuery = z
  .object({
    robotType: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/)
      .optional(),
  })
  .strict();

const MAX_REPORT_DAYS = 93;
export const performanceReportFields = z
  .object({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('window start (ISO 8601); default: 24 h before `to`'),
    to: z.iso.datetime({ offset: true }).optional().describe('window end (ISO 8601); default: now'),
  })
  .strict();
export const performanceReportQuery = performanceReportFields.transform((query, ctx) => {
  const to = query.to ? new Date(query.to) : new Date();
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - 86_400_000);
  if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
  if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: `the range may span at most ${MAX_REPORT_DAYS} days`,
    });
  }
  return { from, to };
});

export const listAlertsQuery = z
  .object({
    status: z.enum(['firing', 'resolved']).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

// Names that show up in logs and listings: printable, no control or bidi characters.
const displayName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._:@-]*$/u, 'letters, digits, space and . _ : @ - only');

export const createKeyBody = z
  .object({
    name: displayName,
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    expires: z
      .string()
      .regex(/^\d{1,5}[dhm]$/, 'a duration like 90d, 12h or 30m')
      .optional(),
  })
  .strict();

export const keyIdParams = z.object({ id: z.uuid({ message: 'must be an api key id (UUID)' }) });

export const listAuditQuery = z
  .object({
    keyId: z.uuid().optional(),
    // Exact match: key:<id>, anonymous, cli:<user>@<host>, mailbox:<name>, reconciler, workflow.
    actor: z.string().min(1).max(210).optional(),
    action: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}\.[a-z0-9-]{1,40}$/, 'an action such as robots.create')
      .optional(),
    outcome: z.enum(['success', 'denied', 'rate-limited', 'failure']).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const listEmailsQuery = z
  .object({
    robotId: z.uuid({ message: 'must be a robot id (UUID)' }).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export const createSubscriptionBody = z
  .object({
    channel: z
      .enum(['webhook', 'email'])
      .default('webhook')
      .describe('webhook: a signed POST to `url`; email: a mail to `target` (needs SMTP_URL)'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional()
      .describe('The webhook URL (channel webhook)'),
    target: z
      .string()
      .max(320)
      .regex(EMAIL_ADDRESS, 'must be an email address like ops@example.com')
      .optional()
      .describe('The email address (channel email)'),
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).max(NOTIFICATION_EVENTS.length),
    robotType: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/)
      .optional(),
    secret: z
      .string()
      .min(16)
      .max(200)
      .optional()
      .describe(
        'Webhook signing secret: whsec_<base64> (Standard Webhooks), or 16+ characters used as raw bytes; generated when absent',
      ),
  })
  .strict()
  .superRefine((body, ctx) => {
    const wrong = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    // A whsec_ secret is read as base64 by every Standard Webhooks library: it must be one.
    const secretIssue = body.secret?.startsWith('whsec_') ? secretProblem(body.secret) : null;
    if (secretIssue) wrong('secret', secretIssue);
    if (body.channel === 'webhook') {
      if (body.url === undefined) wrong('url', 'a webhook subscription needs a url');
      if (body.target !== undefined) wrong('target', 'target is for email subscriptions; use url');
    } else {
      if (body.target === undefined) wrong('target', 'an email subscription needs a target address');
      if (body.url !== undefined) wrong('url', 'url is for webhook subscriptions; use target');
      if (body.secret !== undefined) wrong('secret', 'email subscriptions are not signed');
    }
  });

export const subscriptionParams = z.object({ id: z.uuid() });

/** A reviewer's verdict on an approval step (POST /v1/robots/:id/approve and /reject). */
export const approvalDecisionBody = z
  .object({
    fields: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Corrected fields, merged into the robot data on approval'),
    comment: z.string().max(2000).optional().describe('Why; a rejection fails the robot with it'),
  })
  .strict();
export type ApprovalDecisionBody = z.infer<typeof approvalDecisionBody>;

const secretName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'letters, digits and _ . - only, starting with a letter');

export const putSecretBody = z.object({ name: secretName, value: z.string().min(1).max(8192) }).strict();

export const secretNameParams = z.object({ name: secretName });
