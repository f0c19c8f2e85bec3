import { hostname } from 'node:os';
import type { Notifier } from '../core/adapters/http/notifier';
import {
  type AlertRule,
  type AlertState,
  evaluate,
  INITIAL_ALERT_STATE,
  type Observation,
} from '../core/domain/alerts';
import type { NotifyRequest } from '../core/domain/notification-delivery';
import type { Logger } from '../core/observability/logger';
import type { MetricWindows } from '../core/observability/metric-windows';
import { poolUsage } from '../core/observability/metrics';
import { type AlertsRepository, alertNotice } from '../db/alerts.repository';

/** Rules measured per API process carry this subject; the others are global (module, parked). */
export const INSTANCE_SUBJECT = `api@${hostname()}:${process.pid}`;

export interface AlertEvaluatorDeps {
  rules: AlertRule[];
  alerts: AlertsRepository;
  windows: MetricWindows;
  fireAfter: number;
  resolveAfter: number;
  logger: Logger;
  subject?: string;
  /** Sends alert.fired / alert.resolved to webhook subscribers (subscriptions with no robot type). */
  notifier?: Notifier;
}

const ALERT_NOTIFY_ATTEMPTS = 4;

/**
 * Evaluates the rules every interval in each API process. Hysteresis state is in memory; the
 * firing rows in Postgres are the truth shared by replicas (one firing row per rule and subject).
 */
export class AlertEvaluator {
  private readonly states = new Map<string, AlertState>();
  private readonly rules: Map<string, AlertRule>;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private loaded = false;
  private readonly subject: string;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: AlertEvaluatorDeps) {
    this.rules = new Map(deps.rules.map((rule) => [rule.name, rule]));
    this.subject = deps.subject ?? INSTANCE_SUBJECT;
  }

  /** What this process measures now: instance rules from its metrics, global ones from Postgres. */
  async observe(): Promise<Observation[]> {
    const window = await this.deps.windows.next();
    const [modules, parked, slaAtRisk] = await Promise.all([
      this.deps.alerts.moduleHealth(),
      this.deps.alerts.parkedRobots(),
      this.deps.alerts.slaAtRiskRobots(),
    ]);
    return [
      { rule: 'api_latency_p99', subject: this.subject, value: window.latencyP99Ms },
      { rule: 'api_error_rate', subject: this.subject, value: window.errorRate },
      { rule: 'cache_hit_ratio', subject: this.subject, value: window.cacheHitRatio },
      { rule: 'db_pool_usage', subject: this.subject, value: poolUsage() },
      ...modules.map((m) => ({
        rule: 'module_unhealthy',
        subject: `module:${m.module}`,
        value: m.healthy ? 0 : 1,
      })),
      { rule: 'robots_parked', subject: 'robots', value: parked },
      { rule: 'sla_at_risk', subject: 'robots', value: slaAtRisk },
    ];
  }

  /** One evaluation round; `observations` replaces measuring (tests feed synthetic values). */
  async evaluateOnce(observations?: Observation[]): Promise<{ fired: string[]; resolved: string[] }> {
    if (!this.loaded) {
      // A restarted process resumes the firing alerts so that it can resolve them.
      for (const row of await this.deps.alerts.firing()) {
        this.states.set(`${row.rule}|${row.subject}`, { firing: true, breaches: 0, recoveries: 0 });
      }
      this.loaded = true;
    }
    const fired: string[] = [];
    const resolved: string[] = [];
    for (const observation of observations ?? (await this.observe())) {
      const rule = this.rules.get(observation.rule);
      if (!rule) continue;
      const key = `${rule.name}|${observation.subject}`;
      const { state, transition } = evaluate(
        rule,
        this.states.get(key) ?? INITIAL_ALERT_STATE,
        observation.value,
        {
          fireAfter: this.deps.fireAfter,
          resolveAfter: this.deps.resolveAfter,
        },
      );
      this.states.set(key, state);
      if (transition === 'fired' && observation.value !== null) {
        const row = await this.deps.alerts.fire({
          rule: rule.name,
          subject: observation.subject,
          severity: rule.severity,
          value: observation.value,
          threshold: rule.alertAt,
          message: `${rule.description}: ${round(observation.value)} (alert ${rule.direction} ${rule.alertAt})`,
        });
        if (row) {
          fired.push(key);
          this.deps.logger.warn({ alert: row }, `alert fired: ${rule.name} ${observation.subject}`);
          this.notify(alertNotice(row, 'fired'));
        }
      } else if (transition === 'resolved' && observation.value !== null) {
        const row = await this.deps.alerts.resolve(rule.name, observation.subject, observation.value);
        if (row) {
          resolved.push(key);
          this.deps.logger.info({ alert: row }, `alert resolved: ${rule.name} ${observation.subject}`);
          this.notify(alertNotice(row, 'resolved'));
        }
      }
    }
    return { fired, resolved };
  }

  /** In the background, retried with backoff (1, 2, 4 s): evaluation never waits for webhooks. */
  private notify(request: NotifyRequest, attempt = 1): void {
    const notifier = this.deps.notifier;
    if (!notifier) return;
    const final = attempt >= ALERT_NOTIFY_ATTEMPTS;
    notifier
      .notify(request, final)
      .then((outcome) => {
        if (outcome.pending === 0 || final) return;
        const timer = setTimeout(
          () => {
            this.retryTimers.delete(timer);
            this.notify(request, attempt + 1);
          },
          1000 * 2 ** (attempt - 1),
        );
        timer.unref();
        this.retryTimers.add(timer);
      })
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, event: request.event }, 'alert notification failed'),
      );
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (this.running !== null) return;
      this.running = this.evaluateOnce()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'alert evaluation failed'))
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.running;
  }
}

const round = (value: number) => Math.round(value * 1000) / 1000;
