import { createNotifier } from '../../db/notifier.builder';
import { startTestSystem, type TestSystem } from '../support/test-system';
import {
  type ReceivedHook,
  startWebhookReceiver,
  verifyDelivery,
  type WebhookReceiver,
} from '../support/webhook-receiver';

let system: TestSystem;
let receiver: WebhookReceiver;
let url = '';
let received: ReceivedHook[] = [];
// Scripted answers, first in first out; 200 when empty.
let answers: number[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ url, received, answers } = receiver);
  system = await startTestSystem({ module: false, env: { NOTIFY_ALLOWED_HOSTS: '127.0.0.1' } });
});

afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

async function subscribe(body: Record<string, unknown>) {
  return system.api.post('/v1/notifications/subscriptions').send(body);
}

describe('webhook subscriptions', () => {
  let secret = '';
  let subscriptionId = '';

  it('creates one, showing the signing secret once', async () => {
    const res = await subscribe({ url, events: ['robot.completed', 'robot.failed'], robotType: 'demo' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      target: url,
      events: ['robot.completed', 'robot.failed'],
      robotType: 'demo',
    });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    secret = res.body.secret;
    subscriptionId = res.body.subscriptionId;
    const listed = await system.api.get('/v1/notifications/subscriptions');
    expect(listed.body.items).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('delivers a signed event once, even when asked again', async () => {
    const notifier = createNotifier(system.config, system.database);
    const event = {
      event: 'robot.completed' as const,
      eventKey: 'robot-1:completed',
      robotType: 'demo',
      payload: { robotId: 'robot-1', status: 'completed' },
    };
    expect(await notifier.notify(event)).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(await notifier.notify(event)).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery?.headers['x-rpa-event']).toBe('robot.completed');
    // Standard Webhooks headers (ADR 0048): webhook-id is the delivery id, the same on retries.
    expect(delivery?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(delivery?.headers['x-rpa-signature']).toBeUndefined();
    expect(verifyDelivery(delivery, secret)).toMatchObject({ ok: true, id: delivery?.headers['webhook-id'] });
    // The same check refuses another secret and a changed body.
    expect(verifyDelivery(delivery, `whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyDelivery(delivery && { ...delivery, body: `${delivery.body} ` }, secret)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(JSON.parse(delivery?.body ?? '{}')).toMatchObject({
      id: delivery?.headers['webhook-id'],
      event: 'robot.completed',
      data: { robotId: 'robot-1' },
    });
    // Another robot type, or an event not subscribed to: nothing sent.
    await notifier.notify({ ...event, eventKey: 'robot-2:completed', robotType: 'invoice' });
    await notifier.notify({ ...event, event: 'robot.parked', eventKey: 'robot-1:parked' });
    expect(received).toHaveLength(1);
  });

  it('retries a 503 until delivered, and gives up at once on a 400', async () => {
    const notifier = createNotifier(system.config, system.database);
    answers.push(503);
    const event = {
      event: 'robot.failed' as const,
      eventKey: 'robot-3:failed',
      robotType: 'demo',
      payload: {},
    };
    const sentBefore = received.length;
    expect(await notifier.notify(event)).toEqual({ delivered: 0, failed: 0, pending: 1 });
    expect(await notifier.notify(event)).toEqual({ delivered: 1, failed: 0, pending: 0 });
    // The retry is the same message: the same webhook-id, so a receiver can deduplicate on it.
    const [firstTry, retry] = received.slice(sentBefore);
    expect(retry?.headers['webhook-id']).toBe(firstTry?.headers['webhook-id']);
    expect(verifyDelivery(retry, secret)).toMatchObject({ ok: true });

    answers.push(400);
    const refused = { ...event, eventKey: 'robot-4:failed' };
    expect(await notifier.notify(refused)).toEqual({ delivered: 0, failed: 1, pending: 0 });
    expect(await notifier.notify(refused)).toEqual({ delivered: 0, failed: 1, pending: 0 });

    answers.push(503);
    const last = { ...event, eventKey: 'robot-5:failed' };
    expect(await notifier.notify(last, true)).toEqual({ delivered: 0, failed: 1, pending: 0 });

    const deliveries = await system.api.get(`/v1/notifications/subscriptions/${subscriptionId}/deliveries`);
    const byKey = Object.fromEntries(
      deliveries.body.items.map((d: { eventKey: string }) => [d.eventKey, d]),
    ) as Record<string, { status: string; attempts: number; lastStatusCode: number | null }>;
    expect(byKey['robot-3:failed']).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200 });
    expect(byKey['robot-4:failed']).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 400 });
    expect(byKey['robot-5:failed']).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 503 });
  });

  // The table is built before beforeAll runs: a fixed loopback URL (allowed) for the body cases.
  const valid = 'http://127.0.0.1:9/hook';
  it.each([
    [{ url: 'http://10.0.0.7/hook', events: ['robot.failed'] }, 422, 'private'],
    [{ url: 'http://169.254.169.254/latest/meta-data', events: ['robot.failed'] }, 422, 'metadata'],
    [{ url: 'http://[::1]:8080/hook', events: ['robot.failed'] }, 422, 'loopback'],
    [{ url: 'http://user:pw@127.0.0.1/hook', events: ['robot.failed'] }, 422, 'credentials'],
    [{ url: 'ftp://127.0.0.1/hook', events: ['robot.failed'] }, 400, 'body.url'],
    [{ url: valid, events: [] }, 400, 'body.events'],
    [{ url: valid, events: ['robot.exploded'] }, 400, 'body.events'],
    [{ url: valid, events: ['robot.failed'], robotType: '../etc' }, 400, 'body.robotType'],
    [{ url: valid, events: ['robot.failed'], secret: 'short' }, 400, 'body.secret'],
    [{ url: valid, events: ['robot.failed'], secret: 'whsec_not-base64-at-all!' }, 400, 'body.secret'],
    [
      { url: valid, events: ['robot.failed'], secret: `whsec_${Buffer.alloc(8).toString('base64')}` },
      400,
      'body.secret',
    ],
    [{ url: valid, events: ['robot.failed'], extra: true }, 400, 'body'],
    [{ events: ['robot.failed'] }, 400, 'body.url'],
    // This system has no SMTP_URL: nothing would ever arrive.
    [{ channel: 'email', target: 'ops@example.com', events: ['robot.failed'] }, 422, 'SMTP_URL'],
    [
      { channel: 'email', target: 'ops@example.com', events: ['robot.failed'], secret: 'x'.repeat(20) },
      400,
      'body.secret',
    ],
    [{ channel: 'pigeon', url: valid, events: ['robot.failed'] }, 400, 'body.channel'],
  ])('refuses %j with %i', async (body, status, detail) => {
    const before = await system.api.get('/v1/notifications/subscriptions');
    const res = await subscribe(body);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.detail).toContain(detail);
    const after = await system.api.get('/v1/notifications/subscriptions');
    expect(after.body.items).toHaveLength(before.body.items.length);
  });

  it('deletes a subscription; an unknown or malformed id is 404 / 400', async () => {
    expect((await system.api.delete(`/v1/notifications/subscriptions/${subscriptionId}`)).status).toBe(204);
    expect((await system.api.delete(`/v1/notifications/subscriptions/${subscriptionId}`)).status).toBe(404);
    expect((await system.api.delete('/v1/notifications/subscriptions/not-a-uuid')).status).toBe(400);
  });
});

describe('robot events reach subscribers', () => {
  it('a completed robot is delivered once, signed, with its id and status', async () => {
    await system.startModule({ name: 'hooked', robotTypes: ['demo', 'noop-pipeline'] });
    const sub = await subscribe({ url, events: ['robot.completed'], robotType: 'demo' });
    expect(sub.status).toBe(201);
    const before = received.length;
    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'tell them' } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await system.temporal.workflow.getHandle(robotId).result();
    const delivered = received.slice(before).filter((r) => r.headers['x-rpa-event'] === 'robot.completed');
    expect(delivered).toHaveLength(1);
    const [hook] = delivered;
    expect(JSON.parse(hook?.body ?? '{}').data).toMatchObject({
      robotId,
      robotType: 'demo',
      status: 'completed',
    });
    expect(verifyDelivery(hook, sub.body.secret)).toMatchObject({ ok: true });
    // A robot of a type nobody subscribed to schedules no notification at all.
    const other = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
    await system.temporal.workflow.getHandle(other.body.robotId).result();
    const history = await system.temporal.workflow.getHandle(other.body.robotId).fetchHistory();
    expect(JSON.stringify(history)).not.toContain('notifyRobotEvent');
  }, 60_000);
});
