import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { emailRobotId } from '../../activities/mailbox-monitor';
import { mailboxWorkflowId } from '../../core/domain/mailboxes';
import { fixture } from '../support/document-samples';
import { type Dovecot, type DovecotUser, startDovecot } from '../support/dovecot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Email intake while the document store cannot take an attachment (full, read-only, gone): the
// message is not made into a robot without its document; it waits in the inbox and becomes a whole
// robot once the store is back. test/chaos/disk-full.test.ts is the API's side of a full disk.

const mailbox = `sd-${randomBytes(3).toString('hex')}`;
const user: DovecotUser = { user: 'intake', password: 'intake-pass' };

let system: TestSystem;
let dovecot: Dovecot;
let base: string;
let documentsDir: string;

beforeAll(async () => {
  dovecot = await startDovecot([user]);
  base = await mkdtemp(path.join(tmpdir(), 'rpa-intake-store-down-'));
  documentsDir = path.join(base, 'documents');
  // A regular file where the directory should be: every store call fails (ENOTDIR) until it goes.
  await writeFile(documentsDir, 'not a directory');
  system = await startTestSystem({
    module: false,
    env: {
      DOCUMENTS_DIR: documentsDir,
      MAILBOXES: JSON.stringify([
        {
          name: mailbox,
          host: '127.0.0.1',
          port: dovecot.port,
          secure: false,
          ...user,
          robotType: 'noop-pipeline',
          pollInterval: '1s',
        },
      ]),
    },
  });
}, 90_000);

afterAll(async () => {
  await system?.temporal.workflow
    .getHandle(mailboxWorkflowId(mailbox))
    .terminate('test over')
    .catch(() => undefined);
  await system?.close();
  await dovecot?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

async function robotsOf(): Promise<{ robot_id: string; input_data: Record<string, unknown> }[]> {
  const rows = await system.sql.query(
    "select robot_id, input_data from robots where input_data->'email'->>'mailbox' = $1",
    [mailbox],
  );
  return rows.rows;
}

it('leaves a message in the inbox while its attachment cannot be stored, and makes its whole robot once the store is back', async () => {
  const raw = await new MailComposer({
    from: 'ana@example.com',
    to: 'intake@example.com',
    subject: 'Invoice 7',
    messageId: '<inv-7@example.com>',
    text: 'attached',
    attachments: [{ filename: 'invoice.pdf', content: fixture('invoice-text.pdf') }],
  })
    .compile()
    .build();
  await dovecot.append(user, raw);
  const monitor = system.temporal.workflow.getHandle(mailboxWorkflowId(mailbox));

  // Either the check failed on the store, or (the bug) a robot was made without the attachment.
  await eventually(async () => {
    if ((await robotsOf()).length > 0) return true;
    const state = await monitor.query<{ consecutiveFailures: number }>('mailboxState');
    return state.consecutiveFailures >= 2 ? true : undefined;
  });
  expect(await robotsOf()).toEqual([]);
  const state = await monitor.query<{ lastError: string | null }>('mailboxState');
  expect(state.lastError).toMatch(/document store cannot store/);
  expect(await dovecot.list(user, 'INBOX')).toHaveLength(1);
  expect((await system.sql.query('select count(*)::int as n from documents')).rows[0].n).toBe(0);

  // The store is back: the same message becomes one robot, with its document.
  await rm(documentsDir);
  const [row] = await eventually(async () => {
    const rows = await robotsOf();
    return rows.length > 0 ? rows : undefined;
  });
  expect(row?.robot_id).toBe(emailRobotId('<inv-7@example.com>', mailbox, '', 0));
  const input = row?.input_data as { documentIds: string[]; rejectedAttachments: unknown[] };
  expect(input.rejectedAttachments).toEqual([]);
  expect(input.documentIds).toHaveLength(1);
  const document = await system.api.get(`/v1/documents/${input.documentIds[0]}`);
  expect(document.body).toMatchObject({ mediaType: 'application/pdf', originalName: 'invoice.pdf' });
  await eventually(async () => ((await dovecot.list(user, 'INBOX'))?.length === 0 ? true : undefined));
  expect(await robotsOf()).toHaveLength(1);
}, 90_000);
