import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../core/config';
import { defaultAlertRules } from '../../core/domain/alerts';
import { metricsRegistry, RobotCountSampler } from '../../core/observability/metrics';
import {
  durationSeconds,
  environment,
  imageEnv,
  isRecord,
  type Json,
  ROOT,
  read,
  record,
  secretsOf,
  service,
  services,
  strings,
} from '../support/compose-file';

// The `observability` profile's files (deploy/observability/) checked against the code they
// describe: scrape targets against the compose services and their ports, alert rules against the
// built-in alerts (core/domain/alerts.ts), and every metric name against what the app registers
// and what the Temporal SDK's native core can emit.

const yamlFile = (file: string) => {
  const doc = parseDocument(read(file));
  expect(doc.errors).toEqual([]);
  return record(doc.toJS(), file);
};

const prometheus = yamlFile('deploy/observability/prometheus.yml');
const alertsFile = yamlFile('deploy/observability/alerts.yml');
const dashboard = record(
  JSON.parse(read('deploy/observability/grafana/dashboards/rpa-orchestrator.json')),
  'dashboard',
);
const jobs = (prometheus.scrape_configs as Json[]).map((job) => record(job, 'scrape_config'));
const job = (name: string) => {
  const found = jobs.find((j) => j.job_name === name);
  if (!found) throw new Error(`no scrape job ${name}`);
  return found;
};

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
}
const rules = (alertsFile.groups as Json[]).flatMap((group) => group.rules as Rule[]);

/** Targets of a job's Docker DNS discovery, as service name → port. */
function dnsTargets(name: string): Map<string, number> {
  const targets = new Map<string, number>();
  for (const sd of (job(name).dns_sd_configs as Json[]) ?? []) {
    for (const host of strings(sd.names, `${name}.dns_sd_configs.names`)) targets.set(host, Number(sd.port));
  }
  return targets;
}

/** Where a compose service mounts a bind source (./deploy/...). */
function mountTarget(serviceName: string, source: string): string | undefined {
  return strings(service(serviceName).volumes, `${serviceName}.volumes`)
    .find((volume) => volume.split(':')[0] === source)
    ?.split(':')[1];
}

const panelExprs = (dashboard.panels as Json[]).flatMap((panel) =>
  ((panel.targets as Json[] | undefined) ?? []).map((target) => String(target.expr)),
);

describe('deploy/observability/prometheus.yml', () => {
  test('is the file the prometheus service mounts, with its alert rules mounted where it reads them', () => {
    expect(mountTarget('prometheus', './deploy/observability/prometheus.yml')).toBe(
      '/etc/prometheus/prometheus.yml',
    );
    const ruleFiles = strings(prometheus.rule_files, 'rule_files');
    expect(ruleFiles).toEqual([mountTarget('prometheus', './deploy/observability/alerts.yml')]);
  });

  test('scrapes every API replica at the port the API listens on', () => {
    const api = parseConfig({ ...imageEnv, ...environment('api') });
    expect([...dnsTargets('rpa-api')]).toEqual([['api', api.PORT]]);
    expect(job('rpa-api').metrics_path).toBe('/metrics');
  });

  test('scrapes every worker replica on WORKER_METRICS_PORT and the SDK on TEMPORAL_METRICS_BIND', () => {
    const workers = Object.keys(services).filter((name) => /worker$/.test(name));
    expect(workers.sort()).toEqual(['control-worker', 'module-worker']);
    for (const name of workers) {
      const config = parseConfig({ ...imageEnv, ...environment(name) });
      expect(dnsTargets('rpa-workers').get(name)).toBe(config.WORKER_METRICS_PORT);
      expect(dnsTargets('temporal-sdk').get(name)).toBe(Number(config.TEMPORAL_METRICS_BIND?.split(':')[1]));
    }
  });

  test('scrapes the Temporal server on its PROMETHEUS_ENDPOINT port', () => {
    const port = environment('temporal').PROMETHEUS_ENDPOINT?.split(':')[1];
    const staticTargets = (job('temporal-server').static_configs as Json[]).flatMap((c) =>
      strings(c.targets, 'targets'),
    );
    expect(staticTargets).toEqual([`temporal:${port}`]);
  });

  test('sends METRICS_TOKEN, read from the same secret the app services get', () => {
    for (const name of ['rpa-api', 'rpa-workers']) {
      const auth = record(job(name).authorization, `${name}.authorization`);
      expect(auth.type).toBe('Bearer');
      expect(auth.credentials_file).toBe(`/run/secrets/${secretsOf('prometheus').get('METRICS_TOKEN')}`);
    }
    for (const name of ['api', 'control-worker', 'module-worker']) {
      expect(secretsOf(name).get('METRICS_TOKEN')).toBe('METRICS_TOKEN');
    }
    // Never a literal token in the file.
    expect(read('deploy/observability/prometheus.yml')).not.toMatch(/^\s*credentials:/m);
  });
});

describe('deploy/observability/alerts.yml', () => {
  const config = parseConfig({ ...imageEnv, ...environment('api') });
  const builtIn = defaultAlertRules(config);

  test.each(builtIn.map((rule) => [rule.name, rule] as const))(
    'matches the built-in rule %s: severity, direction, threshold and firing delay',
    (_name, rule) => {
      const matching = rules.filter((r) => r.labels?.rule === rule.name);
      expect(matching).toHaveLength(1);
      const [alert] = matching;
      expect(alert?.labels.severity).toBe(rule.severity);
      const comparison = rule.direction === 'above' ? '>' : '<';
      expect(alert?.expr.trim()).toMatch(
        new RegExp(`\\s${comparison} ${rule.alertAt.toString().replace('.', '\\.')}$`),
      );
      expect(durationSeconds(alert?.for ?? '0s')).toBe(
        config.ALERT_FIRE_AFTER * config.ALERT_EVALUATION_SECONDS,
      );
    },
  );

  test('has no rule the app does not have, besides the scrape-target check', () => {
    const known = new Set(builtIn.map((rule) => rule.name));
    expect(rules.filter((r) => r.labels?.rule !== undefined && !known.has(r.labels.rule))).toEqual([]);
    expect(rules.filter((r) => r.labels?.rule === undefined).map((r) => r.alert)).toEqual(['RpaTargetDown']);
  });

  test('uses the minimum sample count and the pool size the app uses', () => {
    const minSamples = rules.filter((r) => r.expr.includes('>= ')).map((r) => /(>=) (\d+)/.exec(r.expr)?.[2]);
    expect(minSamples.length).toBeGreaterThan(0);
    for (const value of minSamples) expect(Number(value)).toBe(config.ALERT_MIN_SAMPLES);
    const pool = rules.find((r) => r.labels?.rule === 'db_pool_usage');
    expect(pool?.expr).toContain(`) / ${config.DATABASE_POOL_SIZE} > `);
  });
});

describe('metric names in the alert rules and the Grafana dashboard', () => {
  const names = (text: string) =>
    [...text.matchAll(/\b((?:rpa|temporal)_[a-z0-9_]+)\b/g)]
      .map((m) => m[1] ?? '')
      .map((name) => name.replace(/_(bucket|count|sum)$/, ''));
  const used = new Set([...rules.flatMap((rule) => names(rule.expr)), ...panelExprs.flatMap(names)]);

  test('every rpa_* name is a metric the app registers', async () => {
    const sampler = new RobotCountSampler({ robots: async () => [], slaAtRisk: async () => [] });
    const registered = new Set(
      [...metricsRegistry.getMetricsAsArray(), ...sampler.registry.getMetricsAsArray()].map((m) => m.name),
    );
    const rpa = [...used].filter((name) => name.startsWith('rpa_'));
    expect(rpa.length).toBeGreaterThan(15);
    expect(rpa.filter((name) => !registered.has(name))).toEqual([]);
  });

  test("every temporal_* name is one the SDK's native core emits (its strings, without the prefix)", () => {
    const release = path.join(
      path.dirname(require.resolve('@temporalio/core-bridge/package.json')),
      'releases',
      'x86_64-unknown-linux-gnu',
      'index.node',
    );
    expect(existsSync(release)).toBe(true);
    const binary = readFileSync(release).toString('latin1');
    const temporal = [...used].filter((name) => name.startsWith('temporal_'));
    expect(temporal.length).toBeGreaterThan(5);
    expect(temporal.filter((name) => !binary.includes(name.replace(/^temporal_/, '')))).toEqual([]);
    // The check can fail: a made-up name is not in the binary.
    expect(binary.includes('activity_execution_latencyy_made_up')).toBe(false);
  });
});

describe('Grafana provisioning', () => {
  const datasources = yamlFile('deploy/observability/grafana/provisioning/datasources/prometheus.yml');
  const providers = yamlFile('deploy/observability/grafana/provisioning/dashboards/rpa.yml');

  test('the datasource is the compose Prometheus, and every panel uses it by uid', () => {
    const [source] = datasources.datasources as Json[];
    expect(source?.url).toBe('http://prometheus:9090');
    expect(Object.keys(services)).toContain('prometheus');
    const uids = new Set(
      (dashboard.panels as Json[])
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource, ...((panel.targets as Json[]) ?? []).map((t) => t.datasource)])
        .map((ds) => (isRecord(ds) ? ds.uid : ds)),
    );
    expect([...uids]).toEqual([source?.uid]);
  });

  test('the dashboard provider reads the directory compose mounts the dashboards into', () => {
    const [provider] = providers.providers as Json[];
    const options = record(provider?.options, 'provider.options');
    expect(mountTarget('grafana', './deploy/observability/grafana/dashboards')).toBe(options.path);
    expect(mountTarget('grafana', './deploy/observability/grafana/provisioning')).toBe(
      '/etc/grafana/provisioning',
    );
    expect(existsSync(path.join(ROOT, 'deploy/observability/grafana/provisioning/datasources'))).toBe(true);
  });

  test('the dashboard has panels for the API, robots, modules and the Temporal SDK', () => {
    const rows = (dashboard.panels as Json[]).filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['API', 'Robots', 'Modules', 'Temporal SDK (workers)', 'Processes']);
    expect(panelExprs.every((expr) => expr.length > 0)).toBe(true);
    expect(dashboard.uid).toBe('rpa-orchestrator');
  });

  test('the Grafana admin password comes from a secret file, not the compose file', () => {
    const env = environment('grafana');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(
      `/run/secrets/${secretsOf('grafana').get('grafana_admin_password')}`,
    );
  });
});
