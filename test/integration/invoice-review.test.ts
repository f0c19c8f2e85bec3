import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { RobotView } from '../../core/domain/robot';
import { createNotifier } from '../../db/notifier.builder';
import { fixture, textPdf } from '../support/document-samples';
import { type SentMail, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import {
  type ReceivedHook,
  startWebhookReceiver,
  verifyDelivery,
  type WebhookReceiver,
} from '../support/webhook-receiver';

// invoice-intake v2 end to end: a review only below INVOICE_APPROVAL_BELOW, the reviewer's
// corrections reach the check and the output, and the notify step reaches a webhook and an email
// subscriber (a loopback HTTP receiver and a loopback smtp-server sink).

let system: TestSystem;
let documentsDir: string;
let receiver: WebhookReceiver;
let sink: SmtpSink;
let hookUrl = '';
let hooks: ReceivedHook[] = [];
let mails: SentMail[] = [];
let hookSecret = '';
let busyOnce = false;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  ({ url: hookUrl, received: hooks } = receiver);
  // bounce@: 550 always; busy@: 451 the first time, then accepted.
  sink = await startSmtpSink({
    refuse(address) {
      if (address === 'bounce@example.com') return 550;
      if (address === 'busy@example.com' && !busyOnce) {
        busyOnce = true;
        return 451;
      }
      return undefined;
    },
  });
  mails = sink.mails;
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-review-'));
  system = await startTestSystem({
    module: { robotTypes: ['invoice-intake', 'review-check'] },
    env: {
      DOCUMENTS_DIR: documentsDir,
      OCR_WORKERS: '1',
      NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      SMTP_URL: `${sink.url}`,
      SMTP_FROM: 'robots@example.com',
    },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
  await receiver?.close();
  await sink?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

async function upload(bytes: Buffer, filename: string): Promise<string> {
  const res = await system.api.post('/v1/documents').attach('file', bytes, { filename });
  expect(res.status).toBe(201);
  return res.body.documentId as string;
}

async function start(documentId: string): Promise<string> {
  const created = await system.api.post('/v1/robots').send({ type: 'invoice-intake', input: { documentId } });
  expect(created.status).toBe(201);
  return created.body.robotId as string;
}

const statusOf = (robotId: string, statuses: string[]) =>
  eventually(async () => {
    const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
    return statuses.includes(robot.status) ? robot : undefined;
  }, 60_000);

const fieldValues = (output: Record<string, unknown> | undefined) =>
  Object.fromEntries(
    Object.entries((output?.fields ?? {}) as Record<string, { value: unknown } | null>).map(
      ([name, field]) => [name, field?.value ?? null],
    ),
  );

describe('invoice-intake subscriptions', () => {
  it('refuses an email subscription whose target is no address, or that has a url', async () => {
    const bad = await system.api
      .post('/v1/notifications/subscriptions')
      .send({ channel: 'email', target: 'not-an-address', events: ['robot.notified'] });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ type: '/problems/validation-error' });
    expect(bad.body.errors[0]).toMatchObject({ field: 'body.target' });
    const missing = await system.api
      .post('/v1/notifications/subscriptions')
      .send({ channel: 'email', url: hookUrl, events: ['robot.notified'] });
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((error: { field: string }) => error.field).sort()).toEqual([
      'body.target',
      'body.url',
    ]);
  });

  it('subscribes a webhook and an email address to robot.notified of invoice-intake', async () => {
    const hook = await system.api
      .post('/v1/notifications/subscriptions')
      .send({ url: hookUrl, events: ['robot.notified'], robotType: 'invoice-intake' });
    expect(hook.status).toBe(201);
    expect(hook.body).toMatchObject({ channel: 'webhook', target: hookUrl });
    hookSecret = hook.body.secret;
    const mail = await system.api.post('/v1/notifications/subscriptions').send({
      channel: 'email',
      target: 'ap-team@example.com',
      events: ['robot.notified'],
      robotType: 'invoice-intake',
    });
    expect(mail.status).toBe(201);
    expect(mail.body).toMatchObject({ channel: 'email', target: 'ap-team@example.com' });
    expect(mail.body.secret).toBeUndefined();
  });
});

describe('email deliveries', () => {
  it('retries an SMTP 4xx until delivered and fails a 5xx at once, each delivery row once', async () => {
    for (const target of ['busy@example.com', 'bounce@example.com']) {
      const res = await system.api
        .post('/v1/notifications/subscriptions')
        .send({ channel: 'email', target, events: ['robot.failed'], robotType: 'email-retry' });
      expect(res.status).toBe(201);
    }
    const notifier = createNotifier(system.config, system.database);
    const request = {
      event: 'robot.failed' as const,
      eventKey: 'robot-9:failed',
      robotType: 'email-retry',
      payload: { robotId: 'robot-9', robotType: 'email-retry', error: 'boom' },
    };
    expect(await notifier.notify(request)).toEqual({ delivered: 0, failed: 1, pending: 1 });
    expect(await notifier.notify(request)).toEqual({ delivered: 1, failed: 1, pending: 0 });
    // Asked again (a retried activity): nothing is sent twice.
    expect(await notifier.notify(request)).toEqual({ delivered: 1, failed: 1, pending: 0 });
    const sent = mails.filter((mail) => mail.raw.includes('robot-9'));
    expect(sent.map((mail) => mail.to)).toEqual([['busy@example.com']]);
    const parsed = await simpleParser(sent[0]?.raw ?? '');
    expect(parsed.subject).toBe('[rpa] robot.failed: email-retry robot-9');
    const rows = await system.sql.query(
      `select s.target, d.status, d.attempts, d.last_status_code from notification_deliveries d
       join notification_subscriptions s using (subscription_id) where d.event_key = 'robot-9:failed'
       order by s.target`,
    );
    expect(rows.rows).toEqual([
      { target: 'bounce@example.com', status: 'failed', attempts: 1, last_status_code: 550 },
      { target: 'busy@example.com', status: 'delivered', attempts: 2, last_status_code: null },
    ]);
  });
});

describe('invoice-intake review', () => {
  it('waits for a person below the threshold; approving with corrections completes it with them', async () => {
    // No invoice number and no currency: completeness 0.25 + 0.15 + 0.3 = 0.7, below 0.8.
    const pdf = await textPdf(['Wayne Enterprises', 'INVOICE', 'Date: 2024-05-02', 'Total: 250.00']);
    const robotId = await start(await upload(pdf, 'wayne.pdf'));
    const waiting = await statusOf(robotId, ['awaiting_approval', 'completed', 'failed']);
    expect(waiting.status).toBe('awaiting_approval');
    expect(waiting.progress?.steps.map((step) => step.status)).toEqual([
      'completed',
      'completed',
      'running',
      'pending',
      'pending',
    ]);
    const inbox = await system.api.get('/v1/approvals');
    const item = inbox.body.items.find((entry: { robotId: string }) => entry.robotId === robotId);
    expect(item).toMatchObject({ type: 'invoice-intake', step: 'review', status: 'awaiting_approval' });
    expect(item.data.outputs['extract-fields']).toMatchObject({
      completenessScore: 0.7,
      missing: ['invoiceNumber', 'currency'],
    });

    const approved = await system.api
      .post(`/v1/robots/${robotId}/approve`)
      .send({ fields: { currency: 'EUR', invoiceNumber: 'WE-7' }, comment: 'from the PO' });
    expect(approved.status).toBe(202);
    const done = await statusOf(robotId, ['completed', 'failed']);
    expect(done.error ?? null).toBeNull();
    expect(done.status).toBe('completed');
    const output = done.output as Record<string, Record<string, unknown>>;
    expect(output.review).toMatchObject({
      approved: true,
      fields: { currency: 'EUR', invoiceNumber: 'WE-7' },
    });
    // The corrections are what the later steps saw: the check passed on the corrected currency.
    expect(fieldValues(output['extract-fields'])).toEqual({
      vendor: 'Wayne Enterprises',
      invoiceNumber: 'WE-7',
      date: '2024-05-02',
      total: 250,
      currency: 'EUR',
    });
    expect(output['extract-fields']).toMatchObject({
      missing: [],
      fields: { currency: { value: 'EUR', confidence: 1, corrected: true } },
    });
    expect(output['check-fields']).toMatchObject({ valid: true });
    const message = `Invoice from Wayne Enterprises dated 2024-05-02 over 250 EUR read (robot ${robotId}).`;
    expect(output.notify).toMatchObject({ message, subscribers: 2, delivered: 2, failed: 0 });

    // The webhook: signed, event robot.notified, the message in its data.
    const hook = hooks.find((entry) => entry.body.includes(robotId));
    expect(hook).toBeDefined();
    const body = JSON.parse(hook?.body ?? '{}');
    expect(body).toMatchObject({ event: 'robot.notified', data: { robotId, step: 'notify', message } });
    expect(verifyDelivery(hook, hookSecret)).toMatchObject({ ok: true });
    // The email: once, to the subscriber, with the message.
    const sent = mails.filter((mail) => mail.raw.includes(robotId));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.to).toEqual(['ap-team@example.com']);
    const parsed = await simpleParser(sent[0]?.raw ?? '');
    expect(parsed.subject).toBe(`[rpa] robot.notified: invoice-intake ${robotId}`);
    expect(parsed.text).toContain(message);
    expect(parsed.from?.text).toBe('robots@example.com');
    const deliveries = await system.sql.query(
      `select s.channel, d.status, d.attempts from notification_deliveries d
       join notification_subscriptions s using (subscription_id) where d.event_key like $1 order by s.channel`,
      [`${robotId}:%`],
    );
    expect(deliveries.rows).toEqual([
      { channel: 'email', status: 'delivered', attempts: 1 },
      { channel: 'webhook', status: 'delivered', attempts: 1 },
    ]);
  }, 90_000);

  it('a complete invoice does not wait: the review is skipped with its reason', async () => {
    const robotId = await start(await upload(fixture('invoice-text.pdf'), 'stark.pdf'));
    const done = await statusOf(robotId, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    const output = done.output as Record<string, Record<string, unknown>>;
    expect(output.review).toEqual({ reviewed: false, reason: 'completeness 1 is not below 0.8' });
    expect(output['check-fields']).toMatchObject({ valid: true });
    expect(output.notify).toMatchObject({ subscribers: 2, delivered: 2 });
    // Never in the approvals inbox, never awaiting_approval in its history of statuses.
    const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
    expect(JSON.stringify(history)).not.toContain('awaiting_approval');
  }, 90_000);
});

describe('robot types with the new step parameters', () => {
  const register = (steps: unknown[]) =>
    system.api.post('/v1/robot-types').send({ name: 'review-check', steps });

  it.each([
    [{ when: { completenessBelow: 1.5 } }, 'steps.0.params.when.completenessBelow'],
    [{ when: { completenessAbove: 0.5 } }, 'steps.0.params.when'],
    [{ when: 0.8 }, 'steps.0.params.when'],
    [{ corrects: 'later' }, 'steps.0.params.corrects'],
  ])('refuses an approval with params %j (400 naming %s)', async (params, field) => {
    const res = await register([
      { name: 'review', kind: 'approval', params },
      { name: 'later', kind: 'noop' },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('/problems/validation-error');
    expect(res.body.errors.map((error: { field: string }) => error.field)).toContain(`body.${field}`);
  });

  it('refuses a notify step without a message and send-email attachments that are no list', async () => {
    const notify = await register([{ name: 'tell', kind: 'notify' }]);
    expect(notify.status).toBe(400);
    expect(notify.body.errors[0].field).toBe('body.steps.0.params.message');
    const attach = await register([
      {
        name: 'mail',
        kind: 'send-email',
        params: { to: 'a@example.com', subject: 's', text: 't', attachments: 'x' },
      },
    ]);
    expect(attach.status).toBe(400);
    expect(attach.body.errors[0].field).toBe('body.steps.0.params.attachments');
  });

  it('a notify step with nobody subscribed succeeds and says so', async () => {
    const created = await register([
      { name: 'tell', kind: 'notify', params: { message: 'hello {{input.who}}' } },
    ]);
    expect(created.status).toBe(201);
    const robot = await system.api.post('/v1/robots').send({ type: 'review-check', input: { who: 'ops' } });
    expect(robot.status).toBe(201);
    const done = await statusOf(robot.body.robotId, ['completed', 'failed']);
    expect(done.output).toEqual({
      tell: {
        message: 'hello ops',
        subscribers: 0,
        delivered: 0,
        failed: 0,
        note: 'no subscribers to robot.notified for review-check',
      },
    });
    // A message that cannot be filled fails the robot at once, clearly.
    const bad = await system.api.post('/v1/robots').send({ type: 'review-check', input: {} });
    const failed = await statusOf(bad.body.robotId, ['completed', 'failed']);
    expect(failed).toMatchObject({ status: 'failed', error: 'notify: no value for {{input.who}}' });
  }, 60_000);
});
