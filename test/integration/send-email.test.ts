import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { simpleParser } from 'mailparser';
import { createTransport } from 'nodemailer';
import { createBasicStepActivities } from '../../activities/basic-steps';
import { createEmailStepActivities } from '../../activities/email-steps';
import { LocalDocumentStore } from '../../core/adapters/fs/document-store.local';
import { emailsSent } from '../../core/observability/metrics';
import { DocumentsRepository } from '../../db/documents.repository';
import { SentEmailsRepository } from '../../db/sent-emails.repository';
import { fixture } from '../support/document-samples';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

interface Delivered {
  from: string;
  to: string[];
  raw: string;
}

let system: TestSystem;
let sink: SmtpSink;
let inbox: Delivered[] = [];
let email: ReturnType<typeof createEmailStepActivities>;
let documentsDir: string;
// Small on purpose: the second attachment case crosses it.
const ATTACHMENTS_MAX_BYTES = 80_000;

beforeAll(async () => {
  // A loopback SMTP sink: accepts everything except mail to reject@example.com (550).
  sink = await startSmtpSink({ refuse: (address) => (address === 'reject@example.com' ? 550 : undefined) });
  inbox = sink.mails;
  const { port } = sink;
  documentsDir = await mkdtemp(path.join(tmpdir(), 'rpa-mail-'));
  system = await startTestSystem({ module: false, env: { DOCUMENTS_DIR: documentsDir } });
  email = createEmailStepActivities({
    transport: createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }),
    from: 'robots@example.com',
    sentEmails: new SentEmailsRepository(system.database.db),
    attachments: {
      documents: new DocumentsRepository(system.database.db),
      store: new LocalDocumentStore(documentsDir),
      maxBytes: ATTACHMENTS_MAX_BYTES,
    },
  });
  await system.startModule(
    { name: 'mailer', robotTypes: ['email-reply', 'email-with-files'] },
    { ...createBasicStepActivities(), ...email },
  );
});

afterAll(async () => {
  await system?.close();
  await sink?.close();
  await rm(documentsDir, { recursive: true, force: true });
});

async function run(input: Record<string, unknown>, type = 'email-reply') {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  const robotId: string = created.body.robotId;
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
  }, 30_000);
}

/** rpa_emails_sent_total for one outcome, in this process (the module runs in the test). */
async function sent(outcome: string): Promise<number> {
  return (await emailsSent.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('send-email step', () => {
  it('sends the templated reply once, with a Message-ID derived from robot and step', async () => {
    const [sentBefore, repeatsBefore] = [await sent('sent'), await sent('already_sent')];
    const robot = await run({
      to: 'ana@example.com',
      name: 'Ana',
      subject: 'Invoice 42',
      text: 'Please pay.',
    });
    expect(robot.status).toBe('completed');
    expect(inbox).toHaveLength(1);
    const mail = await simpleParser(inbox[0]?.raw ?? '');
    expect(inbox[0]?.to).toEqual(['ana@example.com']);
    expect(mail.subject).toBe('Re: Invoice 42');
    expect(mail.text).toContain('Hello Ana,');
    expect(mail.text).toContain('Please pay.');
    expect(mail.text).toContain(`Robot ${robot.robotId}`);
    expect(mail.messageId).toBe(`<${robot.robotId}.send-reply@rpa-orchestrator>`);

    // A retried step (the same robot and step again) sends nothing.
    const step = {
      name: 'send-reply',
      kind: 'send-email' as const,
      params: { to: 'x@example.com', subject: 's', text: 't' },
      timeoutSeconds: 30,
    };
    const again = await email['send-email']({ robotId: robot.robotId, step, input: {}, previous: {} });
    expect(again).toMatchObject({ alreadySent: true, messageId: mail.messageId });
    expect(inbox).toHaveLength(1);
    const rows = await system.sql.query('select * from sent_emails where robot_id = $1', [robot.robotId]);
    expect(rows.rows).toHaveLength(1);
    expect(await sent('sent')).toBe(sentBefore + 1);
    expect(await sent('already_sent')).toBe(repeatsBefore + 1);
  }, 60_000);

  it('refuses an email-reply without the subject its template reads, at the door', async () => {
    const before = inbox.length;
    const res = await system.api
      .post('/v1/robots')
      .send({ type: 'email-reply', input: { to: 'ana@example.com', name: 'Ana', text: 'no subject' } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'body.input.subject', path: '/subject', message: 'is required' },
    ]);
    expect(inbox).toHaveLength(before);
  });

  it.each([
    [{ to: 'ana@example.com\r\nBcc: all@example.com', name: 'Ana', subject: 's', text: 't' }, '"to" must be'],
    [{ to: 'reject@example.com', name: 'Ana', subject: 's', text: 't' }, 'SMTP refused'],
  ])(
    'fails the robot clearly, sending nothing, for %j',
    async (input, reason) => {
      const before = inbox.length;
      const [sentBefore, failedBefore] = [await sent('sent'), await sent('failed')];
      const robot = await run(input);
      expect(robot.status).toBe('failed');
      expect(robot.error).toContain(reason);
      expect(inbox).toHaveLength(before);
      expect(await sent('sent')).toBe(sentBefore);
      // Only a send the SMTP server refused counts as failed; a bad template never reaches it.
      if (reason === 'SMTP refused') expect(await sent('failed')).toBeGreaterThan(failedBefore);
      else expect(await sent('failed')).toBe(failedBefore);
    },
    60_000,
  );
});

describe('send-email attachments', () => {
  beforeAll(async () => {
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'email-with-files',
      steps: [
        {
          name: 'send-files',
          kind: 'send-email',
          params: {
            to: 'ap@example.com',
            subject: 'Documents for {{input.ref}}',
            text: 'Attached.',
            attachments: ['{{input.documentId}}', '{{input.otherId}}'],
          },
        },
      ],
    });
    expect(registered.status).toBe(201);
  });

  async function upload(bytes: Buffer, filename: string): Promise<string> {
    const res = await system.api.post('/v1/documents').attach('file', bytes, { filename });
    expect(res.status).toBe(201);
    return res.body.documentId as string;
  }

  it('attaches documents by id with their stored bytes, media type and name', async () => {
    const pdf = fixture('invoice-text.pdf');
    const png = fixture('invoice-sans.png');
    const documentId = await upload(pdf, 'stark.pdf');
    const otherId = await upload(png, 'acme.png');
    expect(pdf.length + png.length).toBeLessThan(ATTACHMENTS_MAX_BYTES);
    const before = inbox.length;
    const robot = await run({ ref: 'PO-1', documentId, otherId }, 'email-with-files');
    expect(robot.error ?? null).toBeNull();
    expect(robot.output['send-files']).toMatchObject({ attachments: ['stark.pdf', 'acme.png'] });
    expect(inbox).toHaveLength(before + 1);
    const mail = await simpleParser(inbox.at(-1)?.raw ?? '');
    expect(mail.attachments.map((file) => [file.filename, file.contentType])).toEqual([
      ['stark.pdf', 'application/pdf'],
      ['acme.png', 'image/png'],
    ]);
    expect(mail.attachments[0]?.content.equals(pdf)).toBe(true);
    expect(mail.attachments[1]?.content.equals(png)).toBe(true);
  }, 60_000);

  it('fails for good on an unknown document, a non-id and attachments over the size cap, sending nothing', async () => {
    const known = await upload(fixture('invoice-text.pdf'), 'ok.pdf');
    const before = inbox.length;
    const unknown = await run(
      { ref: 'x', documentId: known, otherId: '00000000-0000-4000-8000-000000000000' },
      'email-with-files',
    );
    expect(unknown).toMatchObject({
      status: 'failed',
      error: 'send-email: attachment: no document 00000000-0000-4000-8000-000000000000',
    });
    const notAnId = await run({ ref: 'x', documentId: known, otherId: '../etc/passwd' }, 'email-with-files');
    expect(notAnId.error).toBe('send-email: attachment "../etc/passwd" is not a document id');
    const big = await upload(fixture('invoice-scanned-2p.pdf'), 'big.pdf');
    const tooLarge = await run({ ref: 'x', documentId: big, otherId: big }, 'email-with-files');
    expect(tooLarge.error).toMatch(
      /^send-email: attachments exceed 80000 bytes \(EMAIL_ATTACHMENTS_MAX_BYTES\)/,
    );
    expect(inbox).toHaveLength(before);
    // Not retried: the document will not appear by trying again.
    const history = await system.temporal.workflow.getHandle(unknown.robotId).fetchHistory();
    const failed = history.events?.find((event) => event.activityTaskFailedEventAttributes);
    expect(failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo).toMatchObject({
      type: 'DocumentNotFound',
      nonRetryable: true,
    });
  }, 60_000);
});

describe('send-email when the SMTP exchange fails', () => {
  const step = {
    name: 'send-reply',
    kind: 'send-email' as const,
    params: { to: 'ana@example.com', subject: 's', text: 't' },
    timeoutSeconds: 30,
  };

  function through(port: number) {
    return createEmailStepActivities({
      transport: createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }),
      from: 'robots@example.com',
      sentEmails: new SentEmailsRepository(system.database.db),
    })['send-email'];
  }

  async function failure(send: ReturnType<typeof through>, robotId: string): Promise<ApplicationFailure> {
    const err = await send({ robotId, step, input: {}, previous: {} }).catch((caught: unknown) => caught);
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  const rowsOf = async (robotId: string) =>
    (await system.sql.query('select status from sent_emails where robot_id = $1', [robotId])).rows;

  it('a relay that cannot be reached: retryable, and the intent released for the retry', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const robotId = randomUUID();
    const err = await failure(through(port), robotId);
    expect(err).toMatchObject({ type: 'SmtpUnavailable', nonRetryable: false });
    expect(await rowsOf(robotId)).toEqual([]);
  });

  it('a connection dropped after DATA: EmailOutcomeUnknown for good, the intent kept as sending', async () => {
    // Answers like a relay up to DATA, then drops the connection instead of answering the message.
    const relay = createServer((socket) => {
      socket.write('220 relay\r\n');
      socket.on('data', (chunk) => {
        const line = String(chunk);
        if (/^(EHLO|MAIL|RCPT)/.test(line)) socket.write('250 ok\r\n');
        else if (line.startsWith('DATA')) socket.write('354 go on\r\n');
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const robotId = randomUUID();
      const send = through((relay.address() as AddressInfo).port);
      const err = await failure(send, robotId);
      expect(err).toMatchObject({ type: 'EmailOutcomeUnknown', nonRetryable: true });
      expect(err.message).toContain(`<${robotId}.send-reply@rpa-orchestrator>`);
      expect(await rowsOf(robotId)).toEqual([{ status: 'sending' }]);
    } finally {
      await new Promise((resolve) => relay.close(resolve));
    }
  });
});
