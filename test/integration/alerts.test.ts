import { randomUUID } from 'node:crypto';
import { AlertEvaluator } from '../../api/alerting';
import { defaultAlertRules } from '../../core/domain/alerts';
import { createLogger } from '../../core/observability/logger';
import { MetricWindows } from '../../core/observability/metric-windows';
import { AlertsRepository } from '../../db/alerts.repository';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;

beforeAll(async () => {
  // The health monitor would overwrite the module health this test sets by hand.
  system = await startTestSystem({ env: { HEALTH_MONITOR_INTERVAL_SECONDS: '3600' } });
});

afterAll(async () => {
  await system?.close();
});

function evaluator(subject: string) {
  return new AlertEvaluator({
    rules: defaultAlertRules(system.config),
    alerts: new AlertsRepository(system.database.db),
    windows: new MetricWindows(system.config.ALERT_MIN_SAMPLES),
    fireAfter: 2,
    resolveAfter: 2,
    logger: createLogger(system.config, 'test'),
    subject,
  });
}

async function rows(rule: string) {
  return (await system.sql.query('select * from alerts where rule = $1 order by fired_at', [rule])).rows;
}

describe('alerts on synthetic metrics', () => {
  it('fire once after consecutive breaches, even with two replicas evaluating, and resolve with hysteresis', async () => {
    const one = evaluator('api@one');
    const two = evaluator('api@two');
    const high = [{ rule: 'api_error_rate', subject: 'global-test', value: 0.2 }];
    expect((await one.evaluateOnce(high)).fired).toEqual([]);
    expect((await one.evaluateOnce(high)).fired).toEqual(['api_error_rate|global-test']);
    await two.evaluateOnce(high);
    expect((await two.evaluateOnce(high)).fired).toEqual([]);
    expect(await rows('api_error_rate')).toHaveLength(1);

    const listed = await system.api.get('/v1/alerts').query({ status: 'firing' });
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({
      rule: 'api_error_rate',
      subject: 'global-test',
      severity: 'critical',
      status: 'firing',
      value: 0.2,
      threshold: 0.05,
    });
    expect(listed.body.items[0].message).toContain('0.2 (alert above 0.05)');

    // 3% is under the alert threshold but above the 1% target: still firing.
    const between = [{ rule: 'api_error_rate', subject: 'global-test', value: 0.03 }];
    await one.evaluateOnce(between);
    expect((await one.evaluateOnce(between)).resolved).toEqual([]);
    const low = [{ rule: 'api_error_rate', subject: 'global-test', value: 0.001 }];
    await one.evaluateOnce(low);
    expect((await one.evaluateOnce(low)).resolved).toEqual(['api_error_rate|global-test']);
    const [row] = await rows('api_error_rate');
    expect(row).toMatchObject({ status: 'resolved', resolved_value: 0.001 });

    const resolved = await system.api.get('/v1/alerts').query({ status: 'resolved' });
    expect(resolved.body.items.map((a: { rule: string }) => a.rule)).toContain('api_error_rate');
  });

  it('a restarted evaluator resumes firing alerts and can resolve them', async () => {
    const before = evaluator('api@restart');
    const slow = [{ rule: 'api_latency_p99', subject: 'api@restart', value: 900 }];
    await before.evaluateOnce(slow);
    await before.evaluateOnce(slow);
    const after = evaluator('api@restart');
    const fast = [{ rule: 'api_latency_p99', subject: 'api@restart', value: 20 }];
    await after.evaluateOnce(fast);
    expect((await after.evaluateOnce(fast)).resolved).toEqual(['api_latency_p99|api@restart']);
  });
});

describe('alerts from real state', () => {
  it('an unhealthy module and a parked robot fire, and resolve when fixed', async () => {
    const live = evaluator('api@real');
    await system.sql.query("update module_registry set health_status = 'unhealthy' where module_name = $1", [
      system.moduleName,
    ]);
    const robotId = randomUUID();
    await system.sql.query(
      "insert into robots (robot_id, robot_type, status) values ($1, 'demo', 'parked')",
      [robotId],
    );
    await live.evaluateOnce();
    const fired = await live.evaluateOnce();
    expect(fired.fired).toEqual(
      expect.arrayContaining([`module_unhealthy|module:${system.moduleName}`, 'robots_parked|robots']),
    );

    await system.sql.query("update module_registry set health_status = 'healthy' where module_name = $1", [
      system.moduleName,
    ]);
    await system.sql.query("update robots set status = 'completed' where robot_id = $1", [robotId]);
    await live.evaluateOnce();
    const resolved = await live.evaluateOnce();
    expect(resolved.resolved).toEqual(
      expect.arrayContaining([`module_unhealthy|module:${system.moduleName}`, 'robots_parked|robots']),
    );
  });

  it('refuses a bad listing query with a 400 problem', async () => {
    for (const query of [{ status: 'open' }, { limit: '0' }, { cursor: 'nope' }, { sort: 'asc' }]) {
      const res = await system.api.get('/v1/alerts').query(query);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
  });
});
