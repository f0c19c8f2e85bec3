import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. API, control worker and module workers each expose it
 * (`/metrics` on the API, a metrics port on workers); series are created here once so that every
 * family has a single definition and name.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'rpa_' });

const registers = [metricsRegistry];

export const cacheRequests = new Counter({
  name: 'rpa_cache_requests_total',
  help: 'Cache lookups by data family and result (hit, miss, error, bypass while the Redis circuit is open).',
  labelNames: ['family', 'result'] as const,
  registers,
});

export const cacheWrites = new Counter({
  name: 'rpa_cache_writes_total',
  help: 'Cache writes and invalidations by data family and result (ok, stale: a newer write was kept, error, bypass).',
  labelNames: ['family', 'op', 'result'] as const,
  registers,
});

export const cacheCircuitOpen = new Gauge({
  name: 'rpa_cache_circuit_open',
  help: '1 while the circuit breaker around Redis is open (requests skip the cache).',
  registers,
});

export const dbQueryDuration = new Histogram({
  name: 'rpa_db_query_duration_seconds',
  help: 'Database query time by pool, statement verb and table.',
  labelNames: ['pool', 'operation', 'table', 'outcome'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
  registers,
});

export const httpRequestDuration = new Histogram({
  name: 'rpa_http_request_duration_seconds',
  help: 'API request time by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

/** Pools report their counts when scraped; several pools of one name (tests) are summed. */
export interface PoolCounts {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}
const pools = new Map<PoolCounts, { name: string; max: number }>();

export function watchPool(name: string, pool: PoolCounts, max: number): () => void {
  pools.set(pool, { name, max });
  return () => pools.delete(pool);
}

/** The busiest pool's (in use + waiting) / size, or null without a pool (PGlite). */
export function poolUsage(): number | null {
  let usage: number | null = null;
  for (const [pool, { max }] of pools) {
    const value = (pool.totalCount - pool.idleCount + pool.waitingCount) / Math.max(1, max);
    usage = usage === null ? value : Math.max(usage, value);
  }
  return usage;
}

new Gauge({
  name: 'rpa_db_pool_connections',
  help: 'Database pool connections by pool and state (in_use, idle, waiting for a connection).',
  labelNames: ['pool', 'state'] as const,
  registers,
  collect() {
    this.reset();
    for (const [pool, { name }] of pools) {
      this.inc({ pool: name, state: 'in_use' }, pool.totalCount - pool.idleCount);
      this.inc({ pool: name, state: 'idle' }, pool.idleCount);
      this.inc({ pool: name, state: 'waiting' }, pool.waitingCount);
    }
  },
});

export const robotsFinished = new Counter({
  name: 'rpa_robots_finished_total',
  help: 'Robots that reached a final status, by robot type and status.',
  labelNames: ['type', 'status'] as const,
  registers,
});

export const robotDuration = new Histogram({
  name: 'rpa_robot_duration_seconds',
  help: 'Processing time of finished robots, by robot type and status.',
  labelNames: ['type', 'status'] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers,
});

export const stepDuration = new Histogram({
  name: 'rpa_step_duration_seconds',
  help: 'Step time on a module (dispatch to result), by module and outcome.',
  labelNames: ['module', 'outcome'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers,
});

export const moduleSelections = new Counter({
  name: 'rpa_module_selections_total',
  help: 'Module selections by result (chosen, none eligible) and whether they were failovers.',
  labelNames: ['result', 'failover'] as const,
  registers,
});

export const selectionDuration = new Histogram({
  name: 'rpa_module_selection_duration_seconds',
  help: 'Time to score every module and choose one (selectModule activity).',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  registers,
});

export const moduleGauges = {
  score: new Gauge({
    name: 'rpa_module_performance_score',
    help: 'Performance score (0..1) per module, from the performance update.',
    labelNames: ['module'] as const,
    registers,
  }),
  replicas: new Gauge({
    name: 'rpa_module_live_replicas',
    help: 'Live replicas per module, from the health monitor.',
    labelNames: ['module'] as const,
    registers,
  }),
  capacity: new Gauge({
    name: 'rpa_module_capacity',
    help: 'Summed capacity (concurrent steps) of live replicas per module.',
    labelNames: ['module'] as const,
    registers,
  }),
  inFlight: new Gauge({
    name: 'rpa_module_in_flight',
    help: 'Steps running per module.',
    labelNames: ['module'] as const,
    registers,
  }),
  healthy: new Gauge({
    name: 'rpa_module_healthy',
    help: '1 when the module is healthy, 0 when degraded or unhealthy (label status says which).',
    labelNames: ['module', 'status'] as const,
    registers,
  }),
};

export const robotSla = new Counter({
  name: 'rpa_robot_sla_total',
  help: 'Robots with a deadline by type and outcome: met (completed in time) or missed (deadline passed).',
  labelNames: ['type', 'outcome'] as const,
  registers,
});

export const moduleSteps = new Counter({
  name: 'rpa_module_steps_total',
  help: 'Steps a module worker ran, by module, step activity and outcome (served by the worker).',
  labelNames: ['module', 'step', 'outcome'] as const,
  registers,
});

export const moduleStepDuration = new Histogram({
  name: 'rpa_module_step_run_seconds',
  help: 'Time a step ran on its module worker (excludes queueing), by module and step activity.',
  labelNames: ['module', 'step'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers,
});

export const rateLimitRejections = new Counter({
  name: 'rpa_rate_limit_rejections_total',
  help: 'Requests refused with 429, by reason (rate-limited, concurrency-limit).',
  labelNames: ['reason'] as const,
  registers,
});

export const hookRequests = new Counter({
  name: 'rpa_hook_requests_total',
  help: 'Inbound webhook requests (POST /hooks/<name>) by result: accepted, replayed, or the refusal reason.',
  labelNames: ['result'] as const,
  registers,
});

export const rateLimitFallbacks = new Counter({
  name: 'rpa_rate_limit_fallback_decisions_total',
  help: 'Rate-limit decisions taken in memory because Redis failed (limits then hold per process).',
  registers,
});

export const auditWriteFailures = new Counter({
  name: 'rpa_audit_write_failures_total',
  help: 'Audit rows that could not be written (logged; the request itself was answered).',
  registers,
});

export const emailsReceived = new Counter({
  name: 'rpa_emails_received_total',
  help: 'Email messages taken in by the mailbox monitor (a robot started, or found already started), by mailbox.',
  labelNames: ['mailbox'] as const,
  registers,
});

export const mailboxFailures = new Counter({
  name: 'rpa_mailbox_failures_total',
  help: 'Mailbox monitor checks that failed (connection, login, IMAP errors), by mailbox.',
  labelNames: ['mailbox'] as const,
  registers,
});

export const ocrPages = new Counter({
  name: 'rpa_ocr_pages_total',
  help: 'Document pages read by the ocr step, by source (ocr: recognised from pixels; text_layer: read from the PDF) and outcome (ok, error).',
  labelNames: ['source', 'outcome'] as const,
  registers,
});

export const ocrPageDuration = new Histogram({
  name: 'rpa_ocr_page_duration_seconds',
  help: 'Time to prepare and recognise one page from pixels (text-layer pages are not timed).',
  buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
  registers,
});

export const emailsSent = new Counter({
  name: 'rpa_emails_sent_total',
  help: 'send-email step outcomes: sent, failed (SMTP refused or unreachable), already_sent (a retry found the earlier send).',
  labelNames: ['outcome'] as const,
  registers,
});

export const httpStepRequests = new Counter({
  name: 'rpa_http_step_requests_total',
  help: 'http-request step attempts by outcome: accepted, refused_status, retried_status, network, timeout, refused_target, too_large, invalid.',
  labelNames: ['outcome'] as const,
  registers,
});

export const retentionPurged = new Counter({
  name: 'rpa_retention_purged_total',
  help: 'Rows and files removed by retention (docs/adr/0050-retention.md), by kind: robots, executions, archived_executions, sent_emails, documents, document_files.',
  labelNames: ['kind'] as const,
  registers,
});

/** Counts read from Postgres by the sampler; only the API process has them. */
export interface RobotCountSources {
  robots(): Promise<{ status: string; type: string; count: number }[]>;
  slaAtRisk(): Promise<{ state: string; type: string; count: number }[]>;
}

/**
 * The API's robot gauges, in a registry of their own that its /metrics appends to the process
 * registry. Counting is a full-table aggregate, so it runs in the background every interval and a
 * scrape only reads the last sample: scrapes (however frequent, whoever sends them) cost Postgres
 * nothing. A sample that cannot reach Postgres drops the series rather than report stale counts.
 */
export class RobotCountSampler {
  readonly registry = new Registry();
  private readonly robots: Gauge<'status' | 'type'>;
  private readonly slaAtRisk: Gauge<'state' | 'type'>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly sources: RobotCountSources) {
    this.robots = new Gauge({
      name: 'rpa_robots',
      help: 'Robots by status and type (rows of the robots table, counted by the background sampler every METRICS_SAMPLE_SECONDS).',
      labelNames: ['status', 'type'] as const,
      registers: [this.registry],
    });
    this.slaAtRisk = new Gauge({
      name: 'rpa_robots_sla_at_risk',
      help: 'Unfinished robots past their SLA risk point (state at_risk) or deadline (state missed), by type (sampled).',
      labelNames: ['state', 'type'] as const,
      registers: [this.registry],
    });
  }

  /** Counts once now and sets the gauges; both counts are read before either gauge changes. */
  async sampleOnce(): Promise<void> {
    const [robots, slaAtRisk] = await Promise.all([
      this.sources.robots().catch(() => []),
      this.sources.slaAtRisk().catch(() => []),
    ]);
    this.robots.reset();
    for (const row of robots) this.robots.set({ status: row.status, type: row.type }, row.count);
    this.slaAtRisk.reset();
    for (const row of slaAtRisk) this.slaAtRisk.set({ state: row.state, type: row.type }, row.count);
  }

  /** Samples now, then every intervalMs (never two at once); the timer does not hold the process. */
  start(intervalMs: number): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running !== null) return;
      this.running = this.sampleOnce().finally(() => {
        this.running = null;
      });
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sample under way (call before closing the database). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}

/** The process registry and, in the API, its robot gauges: one Prometheus text. */
export async function metricsText(...extra: Registry[]): Promise<string> {
  const texts = await Promise.all([metricsRegistry, ...extra].map((registry) => registry.metrics()));
  return texts.join('\n');
}
