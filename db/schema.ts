import { sql } from 'drizzle-orm';
import {
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { EXECUTION_STATES, ROBOT_PRIORITIES, ROBOT_STATUSES } from '../core/domain/robot';
import { SLA_STATES } from '../core/domain/sla';
import type { StepDetails } from '../core/domain/step-details';

export const robotStatus = pgEnum('robot_status', ROBOT_STATUSES);
export const robotPriority = pgEnum('robot_priority', ROBOT_PRIORITIES);
export const executionState = pgEnum('execution_state', EXECUTION_STATES);
export const slaState = pgEnum('sla_state', SLA_STATES);
export const performanceTier = pgEnum('performance_tier', ['bronze', 'silver', 'gold', 'platinum']);
export const healthStatus = pgEnum('health_status', ['healthy', 'degraded', 'unhealthy', 'unknown']);

const timestamps = {
  // Millisecond precision, as in JS Dates: keyset cursors compare exactly.
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const moduleRegistry = pgTable(
  'module_registry',
  {
    moduleId: uuid('module_id').primaryKey().defaultRandom(),
    moduleName: text('module_name').notNull().unique(),
    moduleVersion: text('module_version').notNull(),
    supportedRobotTypes: text('supported_robot_types').array().notNull().default(sql`'{}'::text[]`),
    isActive: boolean('is_active').notNull().default(true),
    // Draining: no new robots are routed to it; robots already on it finish.
    draining: boolean('draining').notNull().default(false),
    supportedSteps: text('supported_steps').array().notNull().default(sql`'{}'::text[]`),
    capacity: integer('capacity').notNull().default(1),
    performanceScore: doublePrecision('performance_score').notNull().default(0.5),
    performanceTier: performanceTier('performance_tier').notNull().default('silver'),
    healthStatus: healthStatus('health_status').notNull().default('unknown'),
    registrationData: jsonb('registration_data').$type<Record<string, unknown>>().notNull().default({}),
    registeredAt: timestamp('registered_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamps.updatedAt,
  },
  (table) => [index('module_registry_active_idx').on(table.isActive, table.healthStatus)],
);

export const robots = pgTable(
  'robots',
  {
    robotId: uuid('robot_id').primaryKey(),
    robotType: text('robot_type').notNull(),
    robotTypeVersion: integer('robot_type_version').notNull().default(1),
    status: robotStatus('status').notNull().default('queued'),
    moduleName: text('module_name').references(() => moduleRegistry.moduleName, { onUpdate: 'cascade' }),
    inputData: jsonb('input_data').$type<Record<string, unknown>>().notNull().default({}),
    outputData: jsonb('output_data').$type<Record<string, unknown>>(),
    priority: robotPriority('priority').notNull().default('normal'),
    processingTimeMs: integer('processing_time_ms'),
    retryCount: integer('retry_count').notNull().default(0),
    completenessScore: doublePrecision('completeness_score'),
    errorMessage: text('error_message'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    // The API key that created the robot (null for robots started outside the API).
    createdByKeyId: uuid('created_by_key_id'),
    // SLA (docs/sla.md): all three set together, or none for a robot without a deadline.
    deadline: timestamp('deadline', { withTimezone: true, precision: 3 }),
    slaRiskAt: timestamp('sla_risk_at', { withTimezone: true, precision: 3 }),
    slaState: slaState('sla_state'),
    ...timestamps,
  },
  (table) => [
    // An Idempotency-Key is unique per API key (ADR 0029): one caller's key never finds another's
    // robot. Robots made without an API key (email intake) keep one shared scope for their derived keys.
    uniqueIndex('robots_key_idempotency_idx')
      .on(table.createdByKeyId, table.idempotencyKey)
      .where(sql`created_by_key_id is not null`),
    uniqueIndex('robots_idempotency_key_idx').on(table.idempotencyKey).where(sql`created_by_key_id is null`),
    // The cleanup schedule's expiry scan: only the few rows whose API key's idempotency key is still held.
    index('robots_idempotency_expiry_idx')
      .on(table.createdAt)
      .where(sql`idempotency_key is not null and created_by_key_id is not null`),
    // Listing is newest first with a (created_at, robot_id) cursor, optionally filtered.
    index('robots_created_idx').on(table.createdAt.desc(), table.robotId.desc()),
    index('robots_status_created_idx').on(table.status, table.createdAt.desc(), table.robotId.desc()),
    index('robots_type_created_idx').on(table.robotType, table.createdAt.desc(), table.robotId.desc()),
    index('robots_module_status_idx').on(table.moduleName, table.status),
    index('robots_key_status_idx').on(table.createdByKeyId, table.status),
    // The sla_at_risk alert and gauge count the few robots at risk or past their deadline.
    index('robots_sla_state_idx')
      .on(table.slaState, table.status)
      .where(sql`sla_state in ('at_risk', 'missed')`),
  ],
);

export const robotExecute = pgTable(
  'robot_execute',
  {
    executionId: uuid('execution_id').primaryKey(),
    robotId: uuid('robot_id')
      .notNull()
      .references(() => robots.robotId, { onDelete: 'cascade' }),
    moduleName: text('module_name').references(() => moduleRegistry.moduleName, { onUpdate: 'cascade' }),
    executionState: executionState('execution_state').notNull().default('started'),
    currentStep: text('current_step'),
    // Partial: the default and rows of earlier versions lack parts; read it with readStepDetails.
    stepDetails: jsonb('step_details').$type<Partial<StepDetails>>().notNull().default({}),
    performanceMetrics: jsonb('performance_metrics').$type<Record<string, unknown>>().notNull().default({}),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (table) => [
    index('robot_execute_robot_idx').on(table.robotId, table.startedAt.desc()),
    index('robot_execute_completed_idx').on(table.completedAt),
  ],
);

/** Replica liveness and in-flight counts when no Redis is configured (embedded mode). */
export const moduleReplicas = pgTable(
  'module_replicas',
  {
    moduleName: text('module_name')
      .notNull()
      .references(() => moduleRegistry.moduleName, { onUpdate: 'cascade', onDelete: 'cascade' }),
    replicaId: text('replica_id').notNull(),
    capacity: integer('capacity').notNull(),
    inFlight: integer('in_flight').notNull().default(0),
    info: jsonb('info').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true, precision: 3 }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.moduleName, table.replicaId] })],
);

/**
 * The step kinds a module declared at its last registration (docs/api.md, Modules): the step catalog's
 * schemas come from here. A registration replaces its module's rows.
 */
export const moduleStepKinds = pgTable(
  'module_step_kinds',
  {
    moduleName: text('module_name')
      .notNull()
      .references(() => moduleRegistry.moduleName, { onUpdate: 'cascade', onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    /** Semver of the kind's contract (not of the module build). */
    version: text('version').notNull(),
    description: text('description').notNull().default(''),
    paramsSchema: jsonb('params_schema').$type<Record<string, unknown>>().notNull(),
    inputSchema: jsonb('input_schema').$type<Record<string, unknown>>().notNull(),
    outputSchema: jsonb('output_schema').$type<Record<string, unknown>>().notNull(),
    secretParams: text('secret_params').array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.moduleName, table.kind] }),
    // The catalog and robot-type registration look declarations up by kind.
    index('module_step_kinds_kind_idx').on(table.kind),
  ],
);

/** Finished executions past the retention period, moved here by the cleanup schedule. */
export const robotExecuteArchive = pgTable(
  'robot_execute_archive',
  {
    executionId: uuid('execution_id').primaryKey(),
    robotId: uuid('robot_id').notNull(),
    moduleName: text('module_name'),
    executionState: executionState('execution_state').notNull(),
    currentStep: text('current_step'),
    stepDetails: jsonb('step_details').$type<Partial<StepDetails>>().notNull(),
    performanceMetrics: jsonb('performance_metrics').$type<Record<string, unknown>>().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    archivedAt: timestamp('archived_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('robot_execute_archive_robot_idx').on(table.robotId)],
);

/** Shared JSON hashes (circuits, performance, routing table) when no Redis is configured. */
export const sharedHashes = pgTable(
  'shared_hashes',
  {
    hash: text('hash').notNull(),
    field: text('field').notNull(),
    value: jsonb('value').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.hash, table.field] })],
);

/** Alerts (core/domain/alerts.ts): at most one firing row per rule and subject, kept after resolving. */
export const alerts = pgTable(
  'alerts',
  {
    alertId: uuid('alert_id').primaryKey().defaultRandom(),
    rule: text('rule').notNull(),
    subject: text('subject').notNull(),
    severity: text('severity').notNull(),
    status: text('status').$type<'firing' | 'resolved'>().notNull().default('firing'),
    value: doublePrecision('value').notNull(),
    threshold: doublePrecision('threshold').notNull(),
    message: text('message').notNull(),
    firedAt: timestamp('fired_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true, precision: 3 }),
    resolvedValue: doublePrecision('resolved_value'),
  },
  (table) => [
    // Several API replicas evaluate the same global rules: the first insert wins, the rest no-op.
    uniqueIndex('alerts_one_firing_idx').on(table.rule, table.subject).where(sql`status = 'firing'`),
    index('alerts_fired_idx').on(table.firedAt.desc(), table.alertId.desc()),
  ],
);

/** Uploaded documents; the bytes live in the DocumentStore under their SHA-256 (shared by duplicates). */
export const documents = pgTable(
  'documents',
  {
    documentId: uuid('document_id').primaryKey().defaultRandom(),
    sha256: text('sha256').notNull(),
    mediaType: text('media_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    width: integer('width'),
    height: integer('height'),
    pages: integer('pages'),
    // Display only (sanitised at upload); never used as a path.
    originalName: text('original_name'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [index('documents_sha256_idx').on(table.sha256)],
);

export type AlertRow = typeof alerts.$inferSelect;

/** Who hears about robot and alert events: a webhook or an email address per row, optionally for one robot type. */
export const notificationSubscriptions = pgTable('notification_subscriptions', {
  subscriptionId: uuid('subscription_id').primaryKey().defaultRandom(),
  robotType: text('robot_type'),
  events: text('events').array().notNull(),
  // Plain text, no database enum: a new channel needs no migration.
  channel: text('channel').$type<'webhook' | 'email'>().notNull(),
  /** The webhook URL, or the email address. */
  target: text('target').notNull(),
  // Shown once at creation; needed in clear to sign each delivery (HMAC). Unused by email.
  secret: text('secret').notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

/** One row per subscription and event: retries update it, so an event is never delivered twice. */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    deliveryId: uuid('delivery_id').primaryKey().defaultRandom(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => notificationSubscriptions.subscriptionId, { onDelete: 'cascade' }),
    eventKey: text('event_key').notNull(),
    event: text('event').notNull(),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, precision: 3 }),
  },
  (table) => [
    uniqueIndex('notification_deliveries_once_idx').on(table.subscriptionId, table.eventKey),
    index('notification_deliveries_created_idx').on(table.createdAt.desc()),
  ],
);

/** `sending`: written before the SMTP exchange, its outcome not (yet) known; `sent`: the relay said 250. */
export const sentEmailStatus = pgEnum('sent_email_status', ['sending', 'sent']);

/**
 * Emails of `send-email` steps: one per robot and step, written as an intent before the SMTP
 * exchange, so neither a retry nor a second replica sends it again (docs/adr/0027-send-email-once.md).
 */
export const sentEmails = pgTable(
  'sent_emails',
  {
    robotId: uuid('robot_id').notNull(),
    step: text('step').notNull(),
    messageId: text('message_id').notNull(),
    recipients: text('recipients').array().notNull(),
    subject: text('subject').notNull(),
    status: sentEmailStatus('status').notNull().default('sent'),
    /** The workflow run that wrote the intent: another run (a robot retry) may take a `sending` one over. */
    runId: text('run_id'),
    /** When the intent was written; when the relay accepted, once `sent`. */
    sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.robotId, table.step] }),
    uniqueIndex('sent_emails_message_id_idx').on(table.messageId),
  ],
);

export type SentEmailRow = typeof sentEmails.$inferSelect;
export type SubscriptionRow = typeof notificationSubscriptions.$inferSelect;
export type DeliveryRow = typeof notificationDeliveries.$inferSelect;
/** Robot types registered through the API: one row per version; built-in types live in code. */
export const robotTypes = pgTable(
  'robot_types',
  {
    name: text('name').notNull(),
    version: integer('version').notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.name, table.version] })],
);

export type DocumentRow = typeof documents.$inferSelect;
export type ModuleRow = typeof moduleRegistry.$inferSelect;
export type ModuleStepKindRow = typeof moduleStepKinds.$inferSelect;
export type RobotRow = typeof robots.$inferSelect;
export type RobotExecuteRow = typeof robotExecute.$inferSelect;
export type RobotTypeRow = typeof robotTypes.$inferSelect;
/** API keys: only the SHA-256 of each key is kept; `prefix` finds the row (ADR 0011). */
export const apiKeys = pgTable('api_keys', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull().unique(),
  hash: text('hash').notNull(),
  scopes: text('scopes').array().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
});

/**
 * One row per mutating request and per refused one (401/403/429), and per change made outside the
 * API (the CLI's key and secret commands, robots made by email intake, the reconciler or their own
 * workflow). Append-only: no code path updates or deletes it, a trigger (migration
 * audit_log_append_only) raises on UPDATE, DELETE, TRUNCATE, and the app's role is granted no more
 * than SELECT and INSERT on it (db/app-role.ts).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: timestamp('at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    keyId: uuid('key_id'),
    /** Who did it: `key:<id>`, `anonymous`, `cli:<user>@<host>`, `mailbox:<name>`, `reconciler`, `workflow`; null on rows from before the column. */
    actor: text('actor'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip'),
    requestId: text('request_id'),
    outcome: text('outcome').notNull(),
    /** The HTTP status; null for a change made outside the API. */
    status: integer('status'),
  },
  (table) => [
    index('audit_log_at_idx').on(table.at.desc(), table.id.desc()),
    index('audit_log_key_at_idx').on(table.keyId, table.at.desc()),
    index('audit_log_action_at_idx').on(table.action, table.at.desc()),
    index('audit_log_actor_at_idx').on(table.actor, table.at.desc()),
  ],
);

/** Robot secrets, AES-256-GCM sealed (core/adapters/crypto/secret-box.ts); the value never leaves the module worker. */
export const secrets = pgTable('secrets', {
  name: text('name').primaryKey(),
  keyId: text('key_id').notNull(),
  iv: text('iv').notNull(),
  tag: text('tag').notNull(),
  ciphertext: text('ciphertext').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
});

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type SecretRow = typeof secrets.$inferSelect;

/**
 * Inbound webhook triggers (ADR 0048): POST /hooks/<name> starts a robot of `robotType`. The signing
 * secret is sealed like a robot secret (AES-256-GCM, the trigger id as associated data); the API
 * opens it to verify each request, and shows it in clear only when it is made.
 */
export const triggers = pgTable('triggers', {
  triggerId: uuid('trigger_id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  robotType: text('robot_type').notNull(),
  priority: robotPriority('priority').notNull().default('normal'),
  /** core/domain/trigger.ts InputMapping; null: the body itself. */
  inputMapping: jsonb('input_mapping'),
  keyId: text('key_id').notNull(),
  iv: text('iv').notNull(),
  tag: text('tag').notNull(),
  ciphertext: text('ciphertext').notNull(),
  ...timestamps,
});

export type TriggerRow = typeof triggers.$inferSelect;
