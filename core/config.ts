import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  bool,
  duration,
  hostList,
  httpSecurityFields,
  port,
  redisFields,
  trustProxy,
  url,
  weight,
} from './config-fields';
import { validateWeights } from './domain/load-balancer-weights';
import { mailboxesEnv } from './domain/mailboxes';
import { DEFAULT_CONTROL_TASK_QUEUE } from './domain/task-queues';

// The only file that reads process.env (house rule): everything else receives a Config.

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_PRETTY: bool.optional(),
    // The share of successful API requests that get an access log line (one lean line each, no
    // per-request child logger); 4xx and 5xx answers are always logged. 1 logs every request.
    ACCESS_LOG_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(1),

    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(3000),
    // Which hops may set X-Forwarded-For (docs/adr/0031): unset, no proxy, the socket's address is the IP.
    TRUST_PROXY: trustProxy,
    // The web dashboard at /dashboard (static files; its /v1 calls need a key like any client).
    DASHBOARD_ENABLED: bool.default(true),
    BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
      .default('100kb'),

    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'must be host:port')
      .default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    // Temporal's environment configuration (ADR 0059, docs/deploy.md): a TOML profile file whose
    // profile fills the TEMPORAL_* settings below that the environment leaves unset.
    TEMPORAL_CONFIG_FILE: z.string().optional(),
    TEMPORAL_PROFILE: z.string().optional(),
    // Unset: TLS as soon as there is TLS material or an API key; false: plain text even then.
    TEMPORAL_TLS: bool.optional(),
    // mTLS client certificate and key, and a private CA (unset: the system's roots), each as a file
    // or inline PEM (_DATA), under Temporal's names; _CERT_PATH, _KEY_PATH and _CA_PATH are our older names.
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().optional(),
    TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().optional(),
    // The name the server's certificate must carry when it differs from TEMPORAL_ADDRESS's host.
    TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
    TEMPORAL_TLS_CERT_PATH: z.string().optional(),
    TEMPORAL_TLS_KEY_PATH: z.string().optional(),
    TEMPORAL_TLS_CA_PATH: z.string().optional(),
    TEMPORAL_API_KEY: z.string().optional(),
    TEMPORAL_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
    // Robot schedules' calls (docs/schedules.md): describe and next times are queries the schedule's
    // own workflow answers in a workflow task, slower than a robot read when Temporal is busy.
    SCHEDULE_RPC_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
    TEMPORAL_UI_URL: url(['http:', 'https:']).default('http://127.0.0.1:8233'),

    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    DATABASE_READ_URL: url(['postgres:', 'postgresql:']).optional(),
    // The tables' owner, used only to migrate (`rpa migrate`, `rpa start`); DATABASE_URL's role then
    // gets table privileges but no ownership, so it cannot undo the audit log's triggers (ADR 0033).
    DATABASE_MIGRATION_URL: url(['postgres:', 'postgresql:']).optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    // Used only when DATABASE_READ_URL names a replica; otherwise reads share the write pool.
    DATABASE_READ_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
    // Hot reads are named (prepared) statements; the launcher turns them off for embedded PGlite,
    // which serves all connections from one session where names from two connections would clash.
    DATABASE_NAMED_STATEMENTS: bool.default(true),
    // The API's circuit breaker around Postgres: consecutive unavailability errors that open it, and
    // how long it answers 503 (Retry-After) before probing again.
    DB_CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(3),
    DB_CIRCUIT_HALF_OPEN_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
    PGLITE_DIR: z.string().min(1).default('.data/pglite'),

    ...redisFields,
    // Active robots whose status the API loads into the cache at start.
    // Workers' own Prometheus endpoint (unset: none); the Temporal SDK's metrics (task latencies,
    // pollers, sticky cache) on another address when TEMPORAL_METRICS_BIND is set, e.g. 127.0.0.1:9464.
    WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    TEMPORAL_METRICS_BIND: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
      .optional(),
    // The API's robot gauges come from a background count every METRICS_SAMPLE_SECONDS, so a scrape
    // never queries Postgres. METRICS_TOKEN, when set, guards /metrics on the API and worker ports
    // (Authorization: Bearer <token>; the API also takes an admin API key); unset, they are open.
    METRICS_SAMPLE_SECONDS: z.coerce.number().min(0.1).max(3600).default(15),
    METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
    // Alerts (core/domain/alerts.ts): the seed's targets and alert thresholds. A rule fires after
    // ALERT_FIRE_AFTER evaluations beyond its alert threshold, resolves after ALERT_RESOLVE_AFTER
    // evaluations back within its target.
    ALERT_EVALUATION_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
    ALERT_FIRE_AFTER: z.coerce.number().int().min(1).max(100).default(2),
    ALERT_RESOLVE_AFTER: z.coerce.number().int().min(1).max(100).default(2),
    ALERT_MIN_SAMPLES: z.coerce.number().int().min(1).max(100_000).default(20),
    TARGET_LATENCY_P99_MS: z.coerce.number().positive().default(100),
    ALERT_LATENCY_P99_MS: z.coerce.number().positive().default(500),
    TARGET_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.01),
    ALERT_ERROR_RATE: z.coerce.number().min(0).max(1).default(0.05),
    TARGET_CACHE_HIT_RATIO: z.coerce.number().min(0).max(1).default(0.8),
    ALERT_CACHE_HIT_RATIO: z.coerce.number().min(0).max(1).default(0.6),
    TARGET_DB_POOL_USAGE: z.coerce.number().min(0).max(10).default(0.8),
    ALERT_DB_POOL_USAGE: z.coerce.number().min(0).max(10).default(0.9),
    // Webhook notifications: targets in private, loopback, link-local or metadata ranges are refused
    // unless listed here (comma-separated host names, IPs or CIDRs).
    NOTIFY_ALLOWED_HOSTS: hostList,
    NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
    // Inbound webhook triggers (POST /hooks/<name>, ADR 0048): how far a request's webhook-timestamp
    // may be from the server's clock either way, and the largest body accepted (413 above it).
    HOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(10).max(3600).default(300),
    HOOK_BODY_LIMIT: z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
      .default('256kb'),
    // The http-request step: targets in the same ranges are refused unless listed here (same form as
    // NOTIFY_ALLOWED_HOSTS, but a list of its own: robot types and webhook subscriptions are written
    // by different keys, and opening one must not open the other).
    HTTP_STEP_ALLOWED_HOSTS: hostList,
    // The send-email step's relay (smtp://user:pass@host:port, smtps://…); unset: the step fails clearly.
    SMTP_URL: url(['smtp:', 'smtps:']).optional(),
    SMTP_FROM: z.string().min(3).max(320).default('rpa-orchestrator <rpa@localhost>'),
    // send-email attachments (documents by id): the sum of their sizes per email.
    EMAIL_ATTACHMENTS_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(50 * 1024 * 1024)
      .default(10 * 1024 * 1024),
    // Email intake (docs/email-intake.md): a JSON array of IMAP mailboxes, each watched by a
    // long-running monitor workflow that starts one robot per new message.
    MAILBOXES: mailboxesEnv.default([]),
    // invoice-intake waits for a person's review when its completeness score is below this (0–1).
    INVOICE_APPROVAL_BELOW: z.coerce.number().gt(0).max(1).default(0.8),
    // Health endpoints answer from the last background probe; one older than this triggers a new one.
    HEALTH_PROBE_MAX_AGE_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
    CACHE_WARM_ROBOTS: z.coerce.number().int().min(0).max(100_000).default(1000),

    MODULE_NAME: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes')
      .default('default'),
    MODULE_CAPACITY: z.coerce.number().int().min(1).max(1000).default(10),
    CONTROL_TASK_QUEUE: z.string().min(1).default(DEFAULT_CONTROL_TASK_QUEUE),
    WORKFLOW_BUNDLE_PATH: z.string().optional(),
    // Robot workflows the control worker keeps in memory between their tasks (the rest replay from
    // history when next woken). The SDK's own default grows with the V8 heap limit (about 2,300 with
    // Node's default 4 GiB heap), so a long run's memory would follow the heap, not the operator.
    WORKFLOW_CACHE_SIZE: z.coerce.number().int().min(2).max(100_000).default(500),
    // A running robot's plain progress records written behind its workflow task (ADR 0046); false
    // writes every record before the workflow goes on, as before.
    PROGRESS_WRITE_BEHIND: bool.default(true),
    MODULE_WAIT_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),

    RPA_API_URL: url(['http:', 'https:']).optional(),
    // The API key the `rpa robots|modules` commands send (else --api-key, else the launcher's key).
    RPA_API_KEY: z.string().min(1).optional(),
    // Load balancer: score = performance·w1 + capacity·w2 + health·w3 + typeMatch·w4; the weights sum to 1.
    LB_WEIGHT_PERFORMANCE: weight.default(0.4),
    LB_WEIGHT_CAPACITY: weight.default(0.3),
    LB_WEIGHT_HEALTH: weight.default(0.2),
    LB_WEIGHT_TYPE_MATCH: weight.default(0.1),
    ROUTING_TABLE_TTL_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
    // Control workers route from an in-process snapshot that Redis pub/sub keeps current, read in
    // full this often (the bound on staleness from an unpublished write); 0: read Redis per selection.
    ROUTING_SNAPSHOT_REFRESH_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
    MODULE_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
    // SIGTERM: how long running steps may go on after a worker stops polling before they are cancelled.
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    MODULE_REPLICA_TTL_SECONDS: z.coerce.number().int().min(2).max(3600).default(15),
    // A replica writes its in-flight count at most this often (0: at every change), off the steps' path.
    MODULE_IN_FLIGHT_WRITE_MS: z.coerce.number().int().min(0).max(60_000).default(100),
    // A step nobody picks up within this time is re-dispatched to another module (failover).
    MODULE_PICKUP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(20),
    STEP_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
    CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(5),
    CIRCUIT_HALF_OPEN_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
    PERFORMANCE_EWMA_ALPHA: z.coerce.number().gt(0).max(1).default(0.2),
    PERFORMANCE_TARGET_LATENCY_MS: z.coerce.number().int().min(1).max(3_600_000).default(1000),
    HEALTH_MONITOR_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
    PERFORMANCE_UPDATE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
    CLEANUP_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),
    EXECUTION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    // Retention (docs/adr/0050-retention.md): finished robots (with their executions and sent emails)
    // are purged this many days after they finished, unless their robot type sets `retentionDays`;
    // documents no robot refers to are removed once older than the grace period. At most
    // RETENTION_BATCH_SIZE robots and documents per statement, a few statements per cleanup run.
    ROBOT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    DOCUMENT_ORPHAN_GRACE_HOURS: z.coerce.number().int().min(1).max(87_600).default(24),
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    // Maintenance workflows (docs/adr/0051-maintenance-workflows.md) loop this many times per run,
    // then continue as new, which keeps each run's history short.
    MAINTENANCE_ITERATIONS_PER_RUN: z.coerce.number().int().min(1).max(10_000).default(200),
    RECONCILE_GRACE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(120),
    // An Idempotency-Key makes a repeat return the first robot for this long after its first use; then
    // the same key makes a new robot (the cleanup schedule also clears expired keys).
    IDEMPOTENCY_KEY_TTL_HOURS: z.coerce.number().int().min(1).max(8760).default(24),
    // A robot whose step failed after all its retries is parked this long for an operator to resume it.
    ROBOT_PARK_TIMEOUT: duration.prefault('7d'),
    // Approval steps: how long they wait for a person, then again after escalation (step params override).
    APPROVAL_TIMEOUT: duration.prefault('24h'),
    APPROVAL_ESCALATION_TIMEOUT: duration.prefault('24h'),
    // SLA (docs/sla.md): a robot with a deadline is at risk once this share of its SLA is left
    // (0.2 of a 4h SLA: 48 min before the deadline); it is then raised to critical and people are told.
    SLA_RISK_SHARE: z.coerce.number().gt(0).lt(1).default(0.2),
    // Bulk actions (docs/bulk-actions.md): a filter matching more robots is refused (422) until narrowed;
    // the operation acts on BULK_BATCH_SIZE robots per activity, BULK_CONCURRENCY of them at a time.
    BULK_MAX_ROBOTS: z.coerce.number().int().min(1).max(100_000).default(10_000),
    BULK_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    BULK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),

    // Documents (POST /v1/documents): content-addressed files under DOCUMENTS_DIR; uploads over
    // DOCUMENT_MAX_BYTES are refused (413), images declaring more pixels than DOCUMENT_MAX_PIXELS too
    // (422: a decompression bomb is refused from its header, before any decoding).
    DOCUMENTS_DIR: z.string().min(1).default('.data/documents'),
    // Or in an S3-compatible bucket (ADR 0057), for API and module workers on several hosts:
    // DOCUMENTS_STORE=s3 with S3_BUCKET; S3_ENDPOINT for a server other than AWS (MinIO, SeaweedFS,
    // Ceph), usually with S3_FORCE_PATH_STYLE. Credentials: S3_ACCESS_KEY_ID + S3_SECRET_ACCESS_KEY,
    // or else the AWS SDK's standard chain (AWS_* variables, profile, instance or pod role).
    DOCUMENTS_STORE: z.enum(['local', 's3']).default('local'),
    S3_BUCKET: z.string().min(3).max(63).optional(),
    S3_KEY_PREFIX: z.string().max(512).default('documents/'),
    S3_ENDPOINT: url(['http:', 'https:']).optional(),
    S3_REGION: z.string().min(1).default('us-east-1'),
    S3_FORCE_PATH_STYLE: bool.default(false),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
    DOCUMENT_MAX_BYTES: z.coerce.number().int().min(1).max(1_073_741_824).default(20_971_520),
    DOCUMENT_MAX_PIXELS: z.coerce.number().int().min(1).max(1_000_000_000).default(40_000_000),
    // OCR: tesseract.js (needs nothing installed) or, where Debian's libtesseract-dev is installed and
    // scripts/build-native-ocr.js built the binding, the native engine (ADR 0044: faster, same model);
    // workers per module process, tesseract.js's recycled after this many pages to bound memory;
    // pages are scaled to at most OCR_MAX_DIMENSION px on the long side; scanned PDFs render at
    // OCR_PDF_DPI, at most OCR_MAX_PAGES pages, each page rendered within OCR_PAGE_TIMEOUT_SECONDS (past
    // it the step fails for good: DocumentPageTimedOut).
    OCR_ENGINE: z.enum(['tesseractjs', 'native']).default('tesseractjs'),
    OCR_WORKERS: z.coerce.number().int().min(1).max(32).default(1),
    OCR_RECYCLE_PAGES: z.coerce.number().int().min(1).max(100_000).default(200),
    OCR_MAX_DIMENSION: z.coerce.number().int().min(200).max(10_000).default(2500),
    OCR_PDF_DPI: z.coerce.number().int().min(50).max(600).default(200),
    OCR_MAX_PAGES: z.coerce.number().int().min(1).max(1000).default(50),
    OCR_PAGE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),

    ...httpSecurityFields,

    DATA_DIR: z.string().min(1).default('.data'),
    // What `rpa start` keeps between starts that depends on the code, not the data: the compiled
    // workflow bundle and an empty, migrated embedded database to begin a new DATA_DIR from.
    LAUNCHER_CACHE_DIR: z
      .string()
      .min(1)
      .default(path.resolve(__dirname, '..', 'node_modules', '.cache')),
    TEMPORAL_DEV_PORT: port.default(7233),
    TEMPORAL_UI_PORT: port.default(8233),
    PGLITE_PORT: port.default(5499),
  })
  .superRefine((config, ctx) => {
    // The embedded PGlite is one process's file: in production it would silently split the data.
    if (config.NODE_ENV === 'production' && !config.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_URL'],
        message: 'is required when NODE_ENV=production (the embedded PGlite is for development only)',
      });
    }
    // A certificate without its key (or the reverse) would silently connect without mTLS.
    const tlsSources: [string, (string | undefined)[]][] = [
      [
        'TEMPORAL_TLS_CLIENT_CERT',
        [
          config.TEMPORAL_TLS_CLIENT_CERT_PATH,
          config.TEMPORAL_TLS_CLIENT_CERT_DATA,
          config.TEMPORAL_TLS_CERT_PATH,
        ],
      ],
      [
        'TEMPORAL_TLS_CLIENT_KEY',
        [
          config.TEMPORAL_TLS_CLIENT_KEY_PATH,
          config.TEMPORAL_TLS_CLIENT_KEY_DATA,
          config.TEMPORAL_TLS_KEY_PATH,
        ],
      ],
      [
        'TEMPORAL_TLS_SERVER_CA_CERT',
        [
          config.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
          config.TEMPORAL_TLS_SERVER_CA_CERT_DATA,
          config.TEMPORAL_TLS_CA_PATH,
        ],
      ],
    ];
    for (const [name, sources] of tlsSources) {
      if (sources.filter((source) => source !== undefined).length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: [`${name}_PATH`],
          message: `give one of ${name}_PATH or ${name}_DATA`,
        });
      }
    }
    const [cert, key] = tlsSources.map(([, sources]) => sources.some((source) => source !== undefined));
    if (cert !== key) {
      ctx.addIssue({
        code: 'custom',
        path: [cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
        message: 'mTLS needs both the client certificate and its key (_PATH or _DATA)',
      });
    }
    if (config.DOCUMENTS_STORE === 's3' && !config.S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when DOCUMENTS_STORE=s3' });
    }
    if (Boolean(config.S3_ACCESS_KEY_ID) !== Boolean(config.S3_SECRET_ACCESS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['S3_SECRET_ACCESS_KEY'],
        message:
          'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or neither: the AWS credential chain)',
      });
    }
    if (config.DATABASE_MIGRATION_URL && !config.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_MIGRATION_URL'],
        message: 'needs DATABASE_URL (the embedded PGlite has a single user)',
      });
    }
    try {
      validateWeights(loadBalancerWeights(config));
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['LB_WEIGHT_PERFORMANCE'], message: (err as Error).message });
    }
    // Hysteresis needs the target on the good side of the alert threshold.
    const bands: [keyof typeof config, keyof typeof config, 'above' | 'below'][] = [
      ['ALERT_LATENCY_P99_MS', 'TARGET_LATENCY_P99_MS', 'above'],
      ['ALERT_ERROR_RATE', 'TARGET_ERROR_RATE', 'above'],
      ['ALERT_CACHE_HIT_RATIO', 'TARGET_CACHE_HIT_RATIO', 'below'],
      ['ALERT_DB_POOL_USAGE', 'TARGET_DB_POOL_USAGE', 'above'],
    ];
    for (const [alert, target, bad] of bands) {
      const [a, t] = [Number(config[alert]), Number(config[target])];
      if (bad === 'above' ? a < t : a > t) {
        ctx.addIssue({
          code: 'custom',
          path: [alert],
          message: `must be ${bad === 'above' ? 'at least' : 'at most'} ${target} (${t})`,
        });
      }
    }
  });

type Weights = Record<
  'LB_WEIGHT_PERFORMANCE' | 'LB_WEIGHT_CAPACITY' | 'LB_WEIGHT_HEALTH' | 'LB_WEIGHT_TYPE_MATCH',
  number
>;

export function loadBalancerWeights(config: Weights) {
  return {
    performance: config.LB_WEIGHT_PERFORMANCE,
    capacity: config.LB_WEIGHT_CAPACITY,
    health: config.LB_WEIGHT_HEALTH,
    typeMatch: config.LB_WEIGHT_TYPE_MATCH,
  };
}

export type Config = z.infer<typeof schema>;

/** Every variable the schema knows (the .env.example test checks the file lists them all). */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof Config)[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * What a process needs, besides DATABASE_URL, to run with NODE_ENV=production: each falls back to
 * something that works on one machine only (no Redis: per-process rate limits and circuits; no
 * secrets key: the secrets API off; no Temporal address: 127.0.0.1:7233, a dev server that is not
 * there). Each command names its own: `rpa migrate` needs only the database, `rpa api` all of them.
 */
export type ProductionNeed = 'redis' | 'secrets' | 'temporal';

const productionNeeds: Record<ProductionNeed, { name: string; message: string }> = {
  redis: {
    name: 'REDIS_URL',
    message: 'is required when NODE_ENV=production (without it limits, circuits and caches are per process)',
  },
  secrets: {
    name: 'SECRETS_KEYS',
    message: 'is required when NODE_ENV=production (id:base64key, a 32-byte key: see docs/operations.md)',
  },
  temporal: {
    name: 'TEMPORAL_ADDRESS',
    message:
      'must be set when NODE_ENV=production (or come from a TEMPORAL_CONFIG_FILE profile): the default 127.0.0.1:7233 is the local dev server',
  },
};

/**
 * The environment with the TEMPORAL_* settings it leaves unset filled from Temporal's TOML profile
 * file (@temporalio/envconfig: TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml, and
 * TEMPORAL_PROFILE, else "default"). Read only when one of the two is set: the `temporal` CLI's own
 * file must not move a developer's `rpa start` to the cluster that CLI talks to.
 */
function withTemporalProfile(env: Record<string, string>): Record<string, string> {
  if (env.TEMPORAL_CONFIG_FILE === undefined && env.TEMPORAL_PROFILE === undefined) return env;
  const { loadClientConfigProfile } =
    require('@temporalio/envconfig') as typeof import('@temporalio/envconfig');
  const fail = (message: string): never => {
    throw new ConfigError(`Invalid configuration:\n  TEMPORAL_CONFIG_FILE: ${message}`);
  };
  if (env.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(env.TEMPORAL_CONFIG_FILE)) {
    fail(`${env.TEMPORAL_CONFIG_FILE} does not exist`);
  }
  let profile: ReturnType<typeof loadClientConfigProfile> = {};
  try {
    // Strict: a misspelt key in the file is an error, not a setting silently ignored.
    profile = loadClientConfigProfile({ overrideEnvVars: env, disableEnv: true, configFileStrict: true });
  } catch (err) {
    fail((err as Error).message);
  }
  const text = (source: { path: string } | { data: string | Uint8Array } | undefined, name: string) =>
    source === undefined
      ? {}
      : 'path' in source
        ? { [`${name}_PATH`]: source.path }
        : {
            [`${name}_DATA`]:
              typeof source.data === 'string' ? source.data : Buffer.from(source.data).toString(),
          };
  const { tls } = profile;
  const fromProfile: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: profile.address,
    TEMPORAL_NAMESPACE: profile.namespace,
    TEMPORAL_API_KEY: profile.apiKey,
    TEMPORAL_TLS: tls === undefined ? undefined : String(tls.disabled !== true),
    TEMPORAL_TLS_SERVER_NAME: tls?.serverName,
    ...text(tls?.clientCert, 'TEMPORAL_TLS_CLIENT_CERT'),
    ...text(tls?.clientKey, 'TEMPORAL_TLS_CLIENT_KEY'),
    ...text(tls?.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT'),
  };
  // The environment wins over the file, as in Temporal's own SDKs and CLI.
  return { ...cleanEnv(fromProfile), ...env };
}

function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

/** The settings a production process of this kind lacks, one line each (empty outside production). */
function missingInProduction(
  given: Record<string, string>,
  config: Config,
  needs: readonly ProductionNeed[],
): string[] {
  if (config.NODE_ENV !== 'production') return [];
  return needs
    .map((need) => productionNeeds[need])
    .filter(({ name }) => given[name] === undefined)
    .map(({ name, message }) => `  ${name}: ${message}`);
}

/**
 * Parses an environment; throws ConfigError naming every bad variable, and with NODE_ENV=production
 * every setting in `needs` the environment lacks.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  options: { needs?: readonly ProductionNeed[] } = {},
): Config {
  const given = withTemporalProfile(cleanEnv(env));
  const result = schema.safeParse(given);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const missing = missingInProduction(given, result.data, options.needs ?? []);
  if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  return result.data;
}

let cached: Config | undefined;

/** The process configuration, parsed once from process.env; `needs` as in parseConfig. */
export function loadConfig(needs: readonly ProductionNeed[] = []): Config {
  cached ??= parseConfig(process.env);
  const missing = missingInProduction(withTemporalProfile(cleanEnv(process.env)), cached, needs);
  if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  return cached;
}

/** Exits with a readable message instead of a stack trace when the environment is wrong. */
export function loadConfigOrExit(needs: readonly ProductionNeed[] = []): Config {
  try {
    return loadConfig(needs);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable and its default.\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Environment for a child process we start, with the same settings as ours. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}
