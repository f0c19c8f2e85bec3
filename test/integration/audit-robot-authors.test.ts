import { randomBytes, randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { emailRobotId } from '../../activities/mailbox-monitor';
import { createMaintenanceActivities } from '../../activities/maintenance';
import { mailboxWorkflowId } from '../../core/domain/mailboxes';
import { createBuiltInRobotTypes } from '../../core/domain/robot-types';
import {
  ROBOT_WORKFLOW,
  robotStartOptions,
  robotWorkflowArgs,
} from '../../core/domain/robot-workflow.contract';
import { createLogger } from '../../core/observability/logger';
import { ExecutionsRepository } from '../../db/executions.repository';
import { RobotsRepository } from '../../db/robots.repository';
import { type Dovecot, startDovecot } from '../support/dovecot';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// Every path that writes a robot row leaves exactly one `robots.create` audit row naming its author:
// the API (key:<id>, tested in audit-log.test.ts), a mailbox, the reconciler, or the robot's own
// workflow when it was started outside the API (ADR 0033).

const mailbox = `audit-${randomBytes(3).toString('hex')}`;
const user = { user: 'audit', password: 'audit-pass' };
let system: TestSystem;
let dovecot: Dovecot;

beforeAll(async () => {
  dovecot = await startDovecot([user]);
  const imap = { host: '127.0.0.1', port: dovecot.port, secure: false };
  system = await startTestSystem({
    env: {
      MAILBOXES: JSON.stringify([
        { name: mailbox, ...imap, ...user, robotType: 'noop-pipeline', pollInterval: '1s' },
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
});

async function creationsOf(
  robotId: string,
): Promise<{ actor: string; key_id: string | null; status: number | null }[]> {
  const rows = await system.sql.query(
    "select actor, key_id, status from audit_log where action = 'robots.create' and target = $1",
    [robotId],
  );
  return rows.rows;
}

/** The same message (one Message-ID) with another subject. */
const message = (subject: string) =>
  new MailComposer({
    from: 'ana@example.com',
    to: 'intake@example.com',
    subject,
    messageId: '<audit-1@example.com>',
    text: 'hello',
  })
    .compile()
    .build();

function reconciler() {
  return createMaintenanceActivities({
    config: system.config,
    moduleStores: system.moduleStores,
    robots: new RobotsRepository(system.database.db),
    executions: new ExecutionsRepository(system.database.db),
    robotDefinition: async () => undefined,
    client: system.temporal,
    logger: createLogger(system.config, 'test'),
  });
}

it('a robot made from an email: actor mailbox:<name>, once, also when the message comes again', async () => {
  await dovecot.append(user, await message('first'));
  const robotId = emailRobotId('<audit-1@example.com>', mailbox, '', 0);
  await eventually(async () => {
    const row = await system.sql.query('select status from robots where robot_id = $1', [robotId]);
    return row.rows[0]?.status === 'completed' ? true : undefined;
  });
  // The same Message-ID again: a duplicate, no second robot and no second row.
  await dovecot.append(user, await message('again'));
  await eventually(async () => ((await dovecot.list(user, 'INBOX'))?.length === 0 ? true : undefined));
  expect(await creationsOf(robotId)).toEqual([{ actor: `mailbox:${mailbox}`, key_id: null, status: null }]);
}, 90_000);

it('an email robot whose id Temporal already ran: the new row is removed again, and that is on record', async () => {
  const robotId = emailRobotId('<audit-1@example.com>', mailbox, '', 0);
  // The first test's robot ran; its row is lost (as after a database restore behind Temporal).
  await system.sql.query('delete from robots where robot_id = $1', [robotId]);
  await dovecot.append(user, await message('once more'));
  const rows = await eventually(async () => {
    const found = await system.sql.query(
      "select actor, action from audit_log where target = $1 and action like 'robots.%' order by at, id",
      [robotId],
    );
    return found.rows.length === 3 ? found.rows : undefined;
  });
  expect(rows).toEqual([
    { actor: `mailbox:${mailbox}`, action: 'robots.create' },
    { actor: `mailbox:${mailbox}`, action: 'robots.create' },
    { actor: `mailbox:${mailbox}`, action: 'robots.delete' },
  ]);
  expect((await system.sql.query('select 1 from robots where robot_id = $1', [robotId])).rows).toEqual([]);
}, 60_000);

it('a robot workflow started outside the API: its row is written by its progress, actor workflow, once', async () => {
  const definition = createBuiltInRobotTypes({
    invoiceApprovalBelow: system.config.INVOICE_APPROVAL_BELOW,
  }).find('noop-pipeline');
  if (!definition) throw new Error('noop-pipeline is built in');
  const robotId = randomUUID();
  const args = robotWorkflowArgs({
    config: system.config,
    robotId,
    definition,
    input: {},
    priority: 'normal',
  });
  const handle = await system.temporal.workflow.start(
    ROBOT_WORKFLOW,
    robotStartOptions(args, system.config.CONTROL_TASK_QUEUE),
  );
  await handle.result();
  // Many progress writes, one insert; a reconciliation afterwards finds the row and adds nothing.
  await reconciler().reconcileRobots();
  expect(await creationsOf(robotId)).toEqual([{ actor: 'workflow', key_id: null, status: null }]);
}, 60_000);

it('a row restored from Temporal by the reconciler: actor reconciler, once', async () => {
  const made = await system.api.post('/v1/robots').send({ type: 'noop-pipeline', input: {} });
  expect(made.status).toBe(201);
  const robotId: string = made.body.robotId;
  await system.temporal.workflow.getHandle(robotId).result();
  await system.sql.query('delete from robots where robot_id = $1', [robotId]);
  const restored = await eventually(async () => {
    const result = await reconciler().reconcileRobots();
    return result.created.includes(robotId) ? result : undefined;
  });
  expect(restored.created).toEqual([robotId]);
  // Again: the row is there, nothing is restored or recorded twice.
  expect((await reconciler().reconcileRobots()).created).toEqual([]);
  // The API's row for the request that made the first row, and the reconciler's for the restored one.
  const adminKeyId = (await system.sql.query("select id from api_keys where name = 'test-admin'")).rows[0].id;
  const rows = await creationsOf(robotId);
  expect(rows).toHaveLength(2);
  expect(rows).toEqual(
    expect.arrayContaining([
      { actor: `key:${adminKeyId}`, key_id: adminKeyId, status: 201 },
      { actor: 'reconciler', key_id: null, status: null },
    ]),
  );
}, 60_000);
