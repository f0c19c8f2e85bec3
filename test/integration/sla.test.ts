import type { temporal } from '@temporalio/proto';
import { AlertEvaluator } from '../../api/alerting';
import { defaultAlertRules } from '../../core/domain/alerts';
import type { RobotView } from '../../core/domain/robot';
import { RobotPriorityKey } from '../../core/domain/search-attributes';
import { createLogger } from '../../core/observability/logger';
import { MetricWindows } from '../../core/observability/metric-windows';
import { metricsRegistry } from '../../core/observability/metrics';
import { AlertsRepository } from '../../db/alerts.repository';
import { createNotifier } from '../../db/notifier.builder';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// SLAs of a few seconds; SLA_RISK_SHARE 0.5 puts the risk point halfway to the deadline.

interface Delivery {
  event: string;
  data: { robotId?: string; alert?: { rule: string }; sla?: { state: string } };
}

let system: TestSystem;
let receiver: WebhookReceiver;
/** Deliveries so far, parsed. */
const allDeliveries = () => receiver.received.map((hook) => JSON.parse(hook.body) as Delivery);

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  system = await startTestSystem({
    env: { NOTIFY_ALLOWED_HOSTS: '127.0.0.1', SLA_RISK_SHARE: '0.5', APPROVAL_TIMEOUT: '2m' },
  });
  const res = await system.api.post('/v1/notifications/subscriptions').send({
    url: receiver.url,
    events: ['robot.sla_at_risk', 'robot.sla_missed', 'alert.fired'],
  });
  expect(res.status).toBe(201);
});

afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', ...body });
  expect(res.status).toBe(201);
  return res.body.robotId as string;
}

async function robot(robotId: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

function until(robotId: string, check: (view: RobotView) => boolean): Promise<RobotView> {
  return eventually(async () => {
    const view = await robot(robotId);
    return check(view) ? view : undefined;
  });
}

function deliveries(robotId: string, event: string): Delivery[] {
  return allDeliveries().filter((d) => d.event === event && d.data.robotId === robotId);
}

async function history(robotId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  return (await system.temporal.workflow.getHandle(robotId).fetchHistory()).events ?? [];
}

/** Patch ids recorded as markers in a run's history. */
function patches(events: temporal.api.history.v1.IHistoryEvent[]): string[] {
  return events.flatMap((event) =>
    Object.values(event.markerRecordedEventAttributes?.details ?? {}).flatMap((payloads) =>
      (payloads.payloads ?? []).map((payload) => Buffer.from(payload.data ?? []).toString()),
    ),
  );
}

async function inbox(robotId: string) {
  const res = await system.api.get('/v1/approvals');
  expect(res.status).toBe(200);
  return res.body.items.find((item: { robotId: string }) => item.robotId === robotId);
}

describe('a robot with a deadline', () => {
  it('is raised to critical and announced at the risk point, alerts, and after the deadline waits for a person; approve completes it', async () => {
    // Risk point at 2 s (during the first step), deadline at 4 s (during the second).
    const robotId = await create({ sla: '4s', input: { holdMs: 2500 } });
    const planned = await robot(robotId);
    expect(planned.sla).toMatchObject({ state: 'on_track' });
    const created = Date.parse(planned.createdAt);
    expect(Date.parse(planned.sla?.deadline ?? '') - created).toBeGreaterThanOrEqual(3900);
    expect(Date.parse(planned.sla?.deadline ?? '') - Date.parse(planned.sla?.riskAt ?? '')).toBe(2000);

    const atRisk = await until(robotId, (view) => view.sla?.state !== 'on_track');
    expect(atRisk.priority).toBe('critical');
    // The row is written by a local activity inside the workflow task, before the task's search
    // attribute upsert reaches the server: wait for that too.
    await eventually(async () => {
      const description = await system.temporal.workflow.getHandle(robotId).describe();
      return description.typedSearchAttributes.get(RobotPriorityKey) === 'critical' ? true : undefined;
    }, 10_000);
    await eventually(async () => (deliveries(robotId, 'robot.sla_at_risk').length > 0 ? true : undefined));
    expect(deliveries(robotId, 'robot.sla_at_risk')[0]?.data).toMatchObject({
      robotId,
      priority: 'critical',
      sla: { state: 'at_risk' },
    });

    // The alert rule counts it from the database; it fires after two evaluations, as every rule.
    const evaluator = new AlertEvaluator({
      rules: defaultAlertRules(system.config),
      alerts: new AlertsRepository(system.database.db),
      windows: new MetricWindows(system.config.ALERT_MIN_SAMPLES),
      fireAfter: 2,
      resolveAfter: 2,
      logger: createLogger(system.config, 'test'),
      subject: 'api@sla',
      notifier: createNotifier(system.config, system.database),
    });
    await evaluator.evaluateOnce();
    expect((await evaluator.evaluateOnce()).fired).toContain('sla_at_risk|robots');
    const alerts = await system.api.get('/v1/alerts').query({ status: 'firing' });
    expect(alerts.body.items.find((a: { rule: string }) => a.rule === 'sla_at_risk')).toMatchObject({
      subject: 'robots',
      severity: 'warning',
      value: 1,
    });
    await eventually(async () =>
      allDeliveries().some((d) => d.event === 'alert.fired' && d.data.alert?.rule === 'sla_at_risk')
        ? true
        : undefined,
    );
    // The API's /metrics counts them in its background sampler (every second in tests).
    await eventually(async () =>
      /rpa_robots_sla_at_risk\{state="(at_risk|missed)",type="noop-pipeline"\} 1/.test(
        (await system.api.get('/metrics')).text,
      )
        ? true
        : undefined,
    );

    // Past the deadline: missed, announced, and after its current step the robot waits for a person.
    const waiting = await until(robotId, (view) => view.status === 'awaiting_approval');
    expect(waiting.sla?.state).toBe('missed');
    expect(waiting.progress?.reason).toBe(
      'deadline missed; waiting for a person to approve before step third',
    );
    expect(waiting.progress?.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'pending']);
    // The webhook goes out beside the robot (not awaited): it may arrive after the robot waits.
    await eventually(async () => (deliveries(robotId, 'robot.sla_missed').length > 0 ? true : undefined));
    expect(deliveries(robotId, 'robot.sla_missed')).toHaveLength(1);
    expect(await inbox(robotId)).toMatchObject({
      status: 'awaiting_approval',
      reason: 'sla-missed',
      step: 'third',
      escalated: false,
    });

    expect((await system.api.post(`/v1/robots/${robotId}/approve`).send({ comment: 'go on' })).status).toBe(
      202,
    );
    const done = await until(robotId, (view) => view.status === 'completed');
    expect(done.sla?.state).toBe('missed');
    expect(done.output).toHaveProperty('third');
    expect(await inbox(robotId)).toBeUndefined();

    // The step after the risk point was dispatched at the highest priority (key 1), the first not.
    const scheduled = (await history(robotId))
      .map((event) => event.activityTaskScheduledEventAttributes)
      .filter((attributes) => attributes?.activityType?.name === 'noop');
    expect(scheduled).toHaveLength(3);
    expect(scheduled[0]?.priority?.priorityKey ?? 0).not.toBe(1);
    expect(scheduled[2]?.priority?.priorityKey).toBe(1);

    // Resolves once nothing is at risk any more.
    await evaluator.evaluateOnce();
    expect((await evaluator.evaluateOnce()).resolved).toContain('sla_at_risk|robots');
    expect(await metricsRegistry.getSingleMetricAsString('rpa_robot_sla_total')).toMatch(
      /rpa_robot_sla_total\{type="noop-pipeline",outcome="missed"\} [1-9]/,
    );
  }, 90_000);

  it('keeps its timers while paused; past the deadline a person rejecting it fails it', async () => {
    const robotId = await create({ sla: '3s', input: { holdMs: 1000 } });
    expect((await system.api.post(`/v1/robots/${robotId}/pause`)).status).toBe(202);
    const paused = await until(robotId, (view) => view.status === 'paused' && view.sla?.state === 'missed');
    expect(paused.priority).toBe('critical');
    await eventually(async () => (deliveries(robotId, 'robot.sla_missed').length > 0 ? true : undefined));
    expect(deliveries(robotId, 'robot.sla_at_risk')).toHaveLength(1);

    expect((await system.api.post(`/v1/robots/${robotId}/resume`)).status).toBe(202);
    await until(robotId, (view) => view.status === 'awaiting_approval');
    expect(await inbox(robotId)).toMatchObject({ reason: 'sla-missed' });
    const res = await system.api.post(`/v1/robots/${robotId}/reject`).send({ comment: 'too late' });
    expect(res.status).toBe(202);
    const failed = await until(robotId, (view) => view.status === 'failed');
    expect(failed.error).toBe('rejected: too late');
    expect(failed.sla?.state).toBe('missed');
  }, 60_000);

  it('keeps its timers while parked', async () => {
    // A step that times out on its only attempt parks the robot (ADR 0007).
    const type = await system.api.post('/v1/robot-types').send({
      name: 'sla-park',
      steps: [
        { name: 'slow', kind: 'noop', timeoutSeconds: 1, retry: { maximumAttempts: 1 } },
        { name: 'after', kind: 'noop' },
      ],
    });
    expect(type.status).toBe(201);
    const res = await system.api
      .post('/v1/robots')
      .send({ type: 'sla-park', input: { holdMs: 5000 }, sla: '3s' });
    expect(res.status).toBe(201);
    const robotId = res.body.robotId as string;
    const parked = await until(robotId, (view) => view.status === 'parked' && view.sla?.state === 'missed');
    expect(parked.priority).toBe('critical');
    await eventually(async () => (deliveries(robotId, 'robot.sla_missed').length > 0 ? true : undefined));
    expect(deliveries(robotId, 'robot.sla_at_risk')).toHaveLength(1);
    expect((await system.api.post(`/v1/robots/${robotId}/cancel`)).status).toBe(202);
    const cancelled = await until(robotId, (view) => view.status === 'cancelled');
    expect(cancelled.sla?.state).toBe('missed');
  }, 60_000);

  it('a verdict at an approval step after the deadline serves as the review', async () => {
    const res = await system.api
      .post('/v1/robots')
      .send({ type: 'approval-demo', input: { text: 'late invoice' }, sla: '2s' });
    expect(res.status).toBe(201);
    const robotId = res.body.robotId as string;
    const missed = await until(
      robotId,
      (view) => view.status === 'awaiting_approval' && view.sla?.state === 'missed',
    );
    expect(missed.progress?.approval?.step).toBe('review');
    expect(await inbox(robotId)).toMatchObject({ reason: 'approval-step', step: 'review' });
    expect((await system.api.post(`/v1/robots/${robotId}/approve`).send({})).status).toBe(202);
    // No second wait before the last step: the robot completes.
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await until(robotId, (view) => view.status === 'completed');
    expect(done.sla?.state).toBe('missed');
  }, 30_000);

  it('finishing in time records met, cancels its timer and tells nobody', async () => {
    // Its completion is announced too (to a subscription of its own): the last notification of a
    // run, after any SLA notification the run could have sent.
    const completions = await system.api
      .post('/v1/notifications/subscriptions')
      .send({ url: receiver.url, events: ['robot.completed'] });
    expect(completions.status).toBe(201);
    const robotId = await create({ sla: '60s' });
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await until(robotId, (view) => view.status === 'completed');
    expect(done.sla?.state).toBe('met');
    expect(done.priority).toBe('normal');
    const events = await history(robotId);
    expect(events.filter((event) => event.timerStartedEventAttributes)).toHaveLength(1);
    expect(events.filter((event) => event.timerCanceledEventAttributes)).toHaveLength(1);
    expect(patches(events).join(' ')).toContain('robot-sla-v1');
    expect(
      (await system.sql.query('select sla_state from robots where robot_id = $1', [robotId])).rows,
    ).toEqual([{ sla_state: 'met' }]);
    await eventually(async () => (deliveries(robotId, 'robot.completed').length > 0 ? true : undefined));
    expect(
      allDeliveries().filter((d) => d.data.robotId === robotId && d.event !== 'robot.completed'),
    ).toEqual([]);
    expect(await metricsRegistry.getSingleMetricAsString('rpa_robot_sla_total')).toMatch(
      /rpa_robot_sla_total\{type="noop-pipeline",outcome="met"\} [1-9]/,
    );
  }, 30_000);

  it("takes the robot type's default sla", async () => {
    const type = await system.api.post('/v1/robot-types').send({
      name: 'sla-default',
      sla: '1h',
      steps: [{ name: 'only', kind: 'noop' }],
    });
    expect(type.status).toBe(201);
    const res = await system.api.post('/v1/robots').send({ type: 'sla-default' });
    expect(res.status).toBe(201);
    const view = await robot(res.body.robotId);
    const ahead = Date.parse(view.sla?.deadline ?? '') - Date.parse(view.createdAt);
    expect(ahead).toBeGreaterThan(3_590_000);
    expect(ahead).toBeLessThanOrEqual(3_600_000 + 1000);
    await system.temporal.workflow.getHandle(res.body.robotId).result();
    expect((await until(res.body.robotId, (v) => v.status === 'completed')).sla?.state).toBe('met');
  }, 30_000);
});

describe('a robot without a deadline', () => {
  it('runs as before: no SLA, no timers, no patch marker', async () => {
    const robotId = await create({});
    await system.temporal.workflow.getHandle(robotId).result();
    const done = await until(robotId, (view) => view.status === 'completed');
    expect(done.sla).toBeNull();
    expect(done.priority).toBe('normal');
    const events = await history(robotId);
    expect(events.filter((event) => event.timerStartedEventAttributes)).toEqual([]);
    expect(patches(events).join(' ')).not.toContain('robot-sla-v1');
  }, 30_000);
});

describe('bad deadlines', () => {
  const past = () => new Date(Date.now() - 60_000).toISOString();
  const far = () => new Date(Date.now() + 400 * 86_400_000).toISOString();
  it.each([
    ['a deadline in the past', () => ({ deadline: past() }), 'body.deadline', 'in the future'],
    ['a deadline over a year ahead', () => ({ deadline: far() }), 'body.deadline', '365 days'],
    ['a deadline that is no date-time', () => ({ deadline: 'friday' }), 'body.deadline', ''],
    ['an sla that is no duration', () => ({ sla: '4 hours' }), 'body.sla', 'duration'],
    ['an sla of zero', () => ({ sla: '0s' }), 'body.sla', '1s to 365d'],
    ['both', () => ({ sla: '1h', deadline: far() }), 'body.sla', 'not both'],
  ])('refuses %s with a 400 problem', async (_name, body, field, message) => {
    const before = await system.sql.query('select count(*)::int as n from robots');
    const res = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'x' }, ...body() });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toContain(field);
    expect(JSON.stringify(res.body)).toContain(message);
    const after = await system.sql.query('select count(*)::int as n from robots');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('refuses a robot type whose default sla is no duration', async () => {
    const res = await system.api.post('/v1/robot-types').send({
      name: 'sla-bad',
      sla: 'soon',
      steps: [{ name: 'only', kind: 'noop' }],
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('sla');
  });
});
