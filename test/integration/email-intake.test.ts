import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import request from 'supertest';
import { emailRobotId, PROCESSED_KEYWORD } from '../../activities/mailbox-monitor';
import { initialMailboxState } from '../../core/domain/mailbox-workflow.contract';
import { mailboxWorkflowId } from '../../core/domain/mailboxes';
import type { RobotView } from '../../core/domain/robot';
import { createLogger } from '../../core/observability/logger';
import { ensureMailboxMonitors } from '../../workers/mailbox-monitors';
import { mailboxStateQuery } from '../../workflows/mailbox-monitor.definitions';
import { fixture } from '../support/document-samples';
import { type Dovecot, type DovecotUser, freePort, startDovecot } from '../support/dovecot';
import { type SentMail, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// Email intake end to end: a private Dovecot on loopback, the mailbox monitors on the control
// worker, email-intake robots on a module with OCR and SMTP (a loopback smtp-server sink), and a
// loopback webhook subscriber for the mailbox alerts.

interface Delivery {
  event: string;
  data: { alert?: { rule: string; subject: string; status: string } };
}

const suffix = randomBytes(3).toString('hex');
const names = {
  intake: `in-${suffix}`,
  flagged: `fl-${suffix}`,
  quiet: `qu-${suffix}`,
  down: `dn-${suffix}`,
  typed: `ty-${suffix}`,
};
const users: Record<'intake' | 'flagged' | 'quiet' | 'typed', DovecotUser> = {
  intake: { user: 'intake', password: 'intake-pass' },
  flagged: { user: 'flagged', password: 'flagged-pass' },
  quiet: { user: 'quiet', password: 'quiet-pass' },
  typed: { user: 'typed', password: 'typed-pass' },
};

let system: TestSystem;
let dovecot: Dovecot;
let sink: SmtpSink;
let receiver: WebhookReceiver;
let documentsDir: string;
let inbox: SentMail[] = [];
/** Webhook deliveries so far, parsed. */
const received = () => receiver.received.map((hook) => JSON.parse(hook.body) as Delivery);

async function compose(options: {
  messageId: string;
  subject: string;
  attachments?: { filename: string; content: Buffer }[];
}): Promise<Buffer> {
  return new MailComposer({
    from: 'Ana <ana@example.com>',
    to: 'intake@example.com',
    subject: options.subject,
    messageId: options.messageId,
    text: 'Please find the invoice attached.',
    attachments: options.attachments ?? [],
  })
    .compile()
    .build();
}

beforeAll(async () => {
  sink = await startSmtpSink();
  inbox = sink.mails;
  receiver = await startWebhookReceiver();
  dovecot = await startDovecot(Object.values(users));
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-mail-intake-'));
  const imap = { host: '127.0.0.1', port: dovecot.port, secure: false };
  const mailboxes = [
    { name: names.intake, ...imap, ...users.intake, pollInterval: '1s' },
    {
      name: names.flagged,
      ...imap,
      ...users.flagged,
      processed: 'flag',
      robotType: 'noop-pipeline',
      pollInterval: '1s',
    },
    {
      name: names.quiet,
      ...imap,
      ...users.quiet,
      robotType: 'noop-pipeline',
      expectedHeartbeat: '4s',
      pollInterval: '1s',
    },
    // Nothing listens there.
    {
      name: names.down,
      ...imap,
      port: await freePort(),
      user: 'x',
      password: 'y',
      pollInterval: '1s',
      failuresBeforeAlert: 2,
    },
    // invoice-intake's inputSchema needs a documentId: a message without an accepted attachment has none.
    { name: names.typed, ...imap, ...users.typed, robotType: 'invoice-intake', pollInterval: '1s' },
  ];
  system = await startTestSystem({
    module: { robotTypes: ['email-intake', 'noop-pipeline'] },
    env: {
      DOCUMENTS_DIR: documentsDir,
      OCR_WORKERS: '1',
      SMTP_URL: `${sink.url}`,
      SMTP_FROM: 'robots@example.com',
      NOTIFY_ALLOWED_HOSTS: '127.0.0.1',
      MAILBOXES: JSON.stringify(mailboxes),
    },
  });
  const res = await system.api.post('/v1/notifications/subscriptions').send({
    url: receiver.url,
    events: ['alert.fired', 'alert.resolved'],
  });
  expect(res.status).toBe(201);
}, 90_000);

afterAll(async () => {
  for (const name of Object.values(names)) {
    await system?.temporal.workflow
      .getHandle(mailboxWorkflowId(name))
      .terminate('test over')
      .catch(() => undefined);
  }
  await system?.close();
  await dovecot?.stop();
  await sink?.close();
  await receiver?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

function bundle() {
  const codePath = process.env.WORKFLOW_BUNDLE_PATH;
  if (!codePath) throw new Error('global setup sets WORKFLOW_BUNDLE_PATH');
  return { workflowBundle: { codePath } };
}

async function robotsOf(
  mailbox: string,
): Promise<{ robot_id: string; input_data: Record<string, unknown> }[]> {
  const rows = await system.sql.query(
    "select robot_id, input_data from robots where input_data->'email'->>'mailbox' = $1 order by created_at",
    [mailbox],
  );
  return rows.rows;
}

async function finished(robotId: string): Promise<RobotView> {
  return eventually(
    async () => {
      const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
      return robot.status === 'completed' || robot.status === 'failed' ? robot : undefined;
    },
    90_000,
    250,
  );
}

describe('email intake', () => {
  it('makes one robot per message: attachments as documents, the message filed, a reply to the sender', async () => {
    const raw = await compose({
      messageId: '<inv-42@example.com>',
      subject: 'Invoice 42',
      attachments: [
        { filename: 'acme.png', content: fixture('invoice-sans.png') },
        { filename: 'notes.txt', content: Buffer.from('not a document') },
      ],
    });
    const processedBefore = (await dovecot.list(users.intake, 'Processed'))?.length ?? 0;
    await dovecot.append(users.intake, raw);
    const robotId = emailRobotId('<inv-42@example.com>', names.intake, '', 0);
    const row = await eventually(async () => (await robotsOf(names.intake))[0]);
    expect(row.robot_id).toBe(robotId);
    const input = row.input_data as {
      documentId: string;
      documentIds: string[];
      rejectedAttachments: { fileName: string }[];
      email: Record<string, unknown>;
    };
    expect(input.documentIds).toEqual([input.documentId]);
    expect(input.rejectedAttachments).toEqual([expect.objectContaining({ fileName: 'notes.txt' })]);
    expect(input.email).toMatchObject({
      from: 'ana@example.com',
      to: ['intake@example.com'],
      subject: 'Invoice 42',
      messageId: '<inv-42@example.com>',
      mailbox: names.intake,
    });
    const document = await system.api.get(`/v1/documents/${input.documentId}`);
    expect(document.status).toBe(200);
    expect(document.body).toMatchObject({ mediaType: 'image/png', originalName: 'acme.png' });
    // Moved out of INBOX into Processed (created by the monitor).
    await eventually(async () =>
      (await dovecot.list(users.intake, 'Processed'))?.length === processedBefore + 1 ? true : undefined,
    );
    expect(await dovecot.list(users.intake, 'INBOX')).toEqual([]);

    const robot = await finished(robotId);
    expect(robot.status).toBe('completed');
    const reply = await eventually(async () => inbox.find((mail) => mail.to.includes('ana@example.com')));
    const mail = await simpleParser(reply.raw);
    expect(mail.subject).toBe('Re: Invoice 42');
    expect(mail.text).toContain('ACME Supplies Ltd');
    expect(mail.text).toContain(robotId);

    // The same message delivered again (same Message-ID): filed, but no second robot.
    await dovecot.append(users.intake, raw);
    await eventually(async () =>
      (await dovecot.list(users.intake, 'Processed'))?.length === processedBefore + 2 ? true : undefined,
    );
    expect(await robotsOf(names.intake)).toHaveLength(1);
  }, 150_000);

  it("files a message its robot type's inputSchema refuses, makes no robot, and reads on", async () => {
    const processedBefore = (await dovecot.list(users.typed, 'Processed'))?.length ?? 0;
    const robotsBefore = (await system.sql.query('select count(*)::int as n from robots')).rows[0].n;
    await dovecot.append(
      users.typed,
      await compose({
        messageId: '<no-invoice@example.com>',
        subject: 'Notes only',
        attachments: [{ filename: 'notes.txt', content: Buffer.from('not a document') }],
      }),
    );
    await eventually(async () =>
      (await dovecot.list(users.typed, 'Processed'))?.length === processedBefore + 1 ? true : undefined,
    );
    expect(await dovecot.list(users.typed, 'INBOX')).toEqual([]);
    expect(await robotsOf(names.typed)).toEqual([]);
    const robotId = emailRobotId('<no-invoice@example.com>', names.typed, '', 0);
    expect((await system.sql.query('select 1 from robots where robot_id = $1', [robotId])).rows).toEqual([]);
    // The monitor counts it as received and goes on: the next message with an invoice is a robot.
    await dovecot.append(
      users.typed,
      await compose({
        messageId: '<invoice-after@example.com>',
        subject: 'Invoice',
        attachments: [{ filename: 'acme.png', content: fixture('invoice-sans.png') }],
      }),
    );
    const [row] = await eventually(async () => {
      const rows = await robotsOf(names.typed);
      return rows.length === 1 ? rows : undefined;
    });
    expect(row?.robot_id).toBe(emailRobotId('<invoice-after@example.com>', names.typed, '', 0));
    expect((await system.sql.query('select count(*)::int as n from robots')).rows[0].n).toBe(
      robotsBefore + 1,
    );
    // The check that made the robot returns (and the workflow counts) a moment after the row.
    const state = await eventually(async () => {
      const current = await system.temporal.workflow
        .getHandle(mailboxWorkflowId(names.typed))
        .query<{ messagesReceived: number; consecutiveFailures: number }>('mailboxState');
      return current.messagesReceived >= 2 ? current : undefined;
    });
    expect(state).toMatchObject({ messagesReceived: 2, consecutiveFailures: 0 });
  }, 90_000);

  it('starts no second robot across a monitor restart, even for a message it must read again', async () => {
    const raw = await compose({ messageId: '<restart-1@example.com>', subject: 'Restart' });
    const uid = await dovecot.append(users.flagged, raw);
    await eventually(async () => ((await robotsOf(names.flagged)).length === 1 ? true : undefined));
    await eventually(async () => {
      const messages = await dovecot.list(users.flagged, 'INBOX');
      return messages?.find((m) => m.uid === uid)?.flags.includes(PROCESSED_KEYWORD) ? true : undefined;
    });

    // Stop the monitor, and undo the filing as if it had died between the robot and the flag.
    const handle = system.temporal.workflow.getHandle(mailboxWorkflowId(names.flagged));
    await handle.terminate('test: monitor restart');
    // The run's history (checks, a message, the query-able state) replays on today's workflow code.
    const history = await handle.fetchHistory();
    await Worker.runReplayHistory(bundle(), history, 'mailbox-monitor');
    if (process.env.RECORD_HISTORIES === '1') {
      writeFileSync(
        path.join(__dirname, '..', 'fixtures', 'histories', 'mailbox-monitor.json'),
        historyToJSON(history),
      );
    }
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.port,
      secure: false,
      auth: { user: users.flagged.user, pass: users.flagged.password },
      logger: false,
    });
    await imap.connect();
    await imap.mailboxOpen('INBOX');
    await imap.messageFlagsRemove(String(uid), [PROCESSED_KEYWORD], { uid: true });
    await imap.logout();

    // Started again (as at worker startup): no checkpoint, reads the message again, files it.
    const logger = createLogger(system.config, 'test');
    expect(await ensureMailboxMonitors(system.temporal, system.config, logger)).toEqual([
      mailboxWorkflowId(names.flagged),
    ]);
    await eventually(async () => {
      const messages = await dovecot.list(users.flagged, 'INBOX');
      return messages?.find((m) => m.uid === uid)?.flags.includes(PROCESSED_KEYWORD) ? true : undefined;
    });
    await eventually(async () => {
      const state = await system.temporal.workflow
        .getHandle(mailboxWorkflowId(names.flagged))
        .query<{ messagesReceived: number }>('mailboxState');
      return state.messagesReceived >= 1 ? state : undefined;
    });
    expect(await robotsOf(names.flagged)).toHaveLength(1);

    // A new message after the restart is a new robot.
    await dovecot.append(
      users.flagged,
      await compose({ messageId: '<restart-2@example.com>', subject: 'Two' }),
    );
    await eventually(async () => ((await robotsOf(names.flagged)).length === 2 ? true : undefined));
  }, 90_000);

  it('alerts (stored and notified) when a mailbox is silent past its heartbeat, and resolves when mail comes', async () => {
    const subject = `mailbox:${names.quiet}`;
    await eventually(
      async () =>
        received().some((d) => d.event === 'alert.fired' && d.data.alert?.subject === subject)
          ? true
          : undefined,
      30_000,
    );
    const alerts = await system.api.get('/v1/alerts?status=firing');
    expect(alerts.status).toBe(200);
    expect(JSON.stringify(alerts.body)).toContain(subject);
    expect(received().find((d) => d.data.alert?.subject === subject)?.data.alert).toMatchObject({
      rule: 'mailbox_silent',
      status: 'firing',
    });

    await dovecot.append(
      users.quiet,
      await compose({ messageId: '<wake-up@example.com>', subject: 'Hello' }),
    );
    await eventually(
      async () =>
        received().some((d) => d.event === 'alert.resolved' && d.data.alert?.subject === subject)
          ? true
          : undefined,
      30_000,
    );
    const resolved = await system.sql.query(
      "select * from alerts where rule = 'mailbox_silent' and subject = $1 and status = 'resolved'",
      [subject],
    );
    expect(resolved.rows.length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('alerts when a mailbox cannot be reached, and shows the error in its state', async () => {
    const subject = `mailbox:${names.down}`;
    await eventually(
      async () =>
        received().some((d) => d.event === 'alert.fired' && d.data.alert?.subject === subject)
          ? true
          : undefined,
      30_000,
    );
    const rows = await system.sql.query(
      "select rule, severity from alerts where subject = $1 and status = 'firing'",
      [subject],
    );
    expect(rows.rows).toContainEqual({ rule: 'mailbox_unreachable', severity: 'critical' });
    const state = await system.temporal.workflow
      .getHandle(mailboxWorkflowId(names.down))
      .query<{ consecutiveFailures: number; lastError: string | null }>('mailboxState');
    expect(state.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(state.lastError).toMatch(/ECONNREFUSED|connect/i);
  }, 60_000);

  it('lists the mailboxes with their monitor state (GET /v1/mailboxes, robots:read), never a password', async () => {
    const res = await eventually(async () => {
      const listed = await system.api.get('/v1/mailboxes');
      const intake = listed.body.items?.find((m: { name: string }) => m.name === names.intake);
      return intake?.monitor?.checkpoint ? listed : undefined;
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((m: { name: string }) => m.name)).toEqual(Object.values(names));
    expect(JSON.stringify(res.body)).not.toContain(users.intake.password);
    const intake = res.body.items[0];
    expect(intake).toMatchObject({
      host: '127.0.0.1',
      port: dovecot.port,
      user: 'intake',
      folder: 'INBOX',
      robotType: 'email-intake',
      processed: 'move',
      pollIntervalSeconds: 1,
      monitor: {
        workflowId: mailboxWorkflowId(names.intake),
        status: 'RUNNING',
        checkpoint: { uidValidity: expect.any(String), lastUid: 2 },
        messagesReceived: 2,
        consecutiveFailures: 0,
        lastError: null,
        alerts: { silent: false, unreachable: false },
      },
    });
    expect(Date.parse(intake.monitor.lastMessageAt)).toBeGreaterThan(0);
    const down = res.body.items[3];
    expect(down.monitor.alerts.unreachable).toBe(true);

    const reader = await system.security.keys.create({
      name: 'reader',
      scopes: ['robots:read'],
      expiresAt: null,
    });
    const other = await system.security.keys.create({
      name: 'modules',
      scopes: ['modules:read'],
      expiresAt: null,
    });
    const as = (key: string) =>
      request(system.url).get('/v1/mailboxes').set('Authorization', `Bearer ${key}`);
    expect((await as(reader.key)).status).toBe(200);
    expect((await as(other.key)).status).toBe(403);
    const documented = (await system.api.get('/openapi.json')).body.paths['/v1/mailboxes'];
    expect(documented.get.summary).toContain('monitor');
  }, 60_000);

  it('continues as new with its checkpoint, counters and alert state', async () => {
    // A second monitor on the quiet mailbox (filed messages are gone; nothing new to take in), with
    // a short run and a long heartbeat so it raises nothing of its own.
    const workflowId = `mailbox-can-${suffix}`;
    const handle = await system.temporal.workflow.start('mailboxMonitorWorkflow', {
      workflowId,
      taskQueue: system.config.CONTROL_TASK_QUEUE,
      args: [
        {
          ...initialMailboxState(names.quiet, {
            expectedHeartbeatMs: 3_600_000,
            pollIntervalMs: 500,
            failuresBeforeAlert: 3,
          }),
          checkpoint: { uidValidity: 'stale', lastUid: 99 },
          messagesReceived: 5,
          iterationsPerRun: 2,
        },
      ],
    });
    try {
      const firstRun = handle.firstExecutionRunId;
      const latest = system.temporal.workflow.getHandle(workflowId);
      const state = await eventually(async () => {
        const description = await latest.describe();
        if (description.runId === firstRun) return undefined;
        return latest.query(mailboxStateQuery);
      }, 30_000);
      expect(state).toMatchObject({ mailbox: names.quiet, messagesReceived: 5, iterationsPerRun: 2 });
      // The stale UIDVALIDITY was replaced by the folder's, read from the start (nothing left in it).
      expect(state.checkpoint?.uidValidity).not.toBe('stale');
      expect(state.watchingSince).toEqual(expect.any(Number));
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  }, 60_000);
});
