import { setTimeout as sleep } from 'node:timers/promises';
import type { RobotView } from '../../core/domain/robot';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { TcpProxy } from '../support/tcp-proxy';
import { ADMIN_DATABASE_URL } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

// send-email when the module's Postgres goes away mid-step. Between the relay's 250 and the `sent`
// mark: the email went out once, so the step must record it when Postgres is back and complete —
// not fail the robot EmailOutcomeUnknown because its own retry found the intent still `sending`
// (ADR 0027). Around its bookkeeping before the send: the step waits the outage out rather than
// spend its few retries on it and park the robot (ADR 0007: outages are not parked).

const proxy = new TcpProxy(Number(new URL(ADMIN_DATABASE_URL).port || 5432));
let system: TestSystem;
let sink: SmtpSink;
let worker: WorkerProcess | undefined;
const ANSWER_DELAY_MS = 3000;
let refusedOnce = false;

beforeAll(async () => {
  sink = await startSmtpSink({
    answerDelayMs: () => ANSWER_DELAY_MS,
    // The second test's relay answers its first RCPT "try later", as Postgres goes away.
    refuse: (address) => {
      if (address !== 'later@example.com' || refusedOnce) return undefined;
      refusedOnce = true;
      void proxy.cut();
      return 451;
    },
  });
  system = await startTestSystem({
    module: false,
    databasePort: await proxy.start(),
    env: { STEP_HEARTBEAT_TIMEOUT_SECONDS: '2', CIRCUIT_FAILURE_THRESHOLD: '1000' },
  });
  const registered = await system.api.post('/v1/robot-types').send({
    name: 'mail-mark',
    steps: [
      {
        name: 'send',
        kind: 'send-email',
        params: { to: 'ana@example.com', subject: 'Order {{input.ref}}', text: 'Shipped.' },
        timeoutSeconds: 30,
        retry: { maximumAttempts: 10, initialIntervalSeconds: 1, maximumIntervalSeconds: 1 },
      },
    ],
  });
  expect(registered.status).toBe(201);
  const plain = await system.api.post('/v1/robot-types').send({
    name: 'mail-later',
    // The default retry policy: three attempts, 1 s and 2 s apart.
    steps: [
      {
        name: 'send',
        kind: 'send-email',
        params: { to: 'later@example.com', subject: 'Order {{input.ref}}', text: 'Shipped.' },
        timeoutSeconds: 30,
      },
    ],
  });
  expect(plain.status).toBe(201);
  worker = spawnModuleWorker(system.config, 'mailer', 5, { SMTP_URL: sink.url });
  await eventually(async () => {
    const res = await system.api.get('/v1/modules/mailer');
    return res.status === 200 && res.body.live.replicas > 0 ? true : undefined;
  }, 30_000);
});

afterAll(async () => {
  await proxy.start().catch(() => undefined);
  await worker?.kill();
  await system?.close();
  await proxy.cut();
  await sink?.close();
});

it('Postgres away when the relay answers 250: the step records `sent` once it is back and completes, one email', async () => {
  const created = await system.api.post('/v1/robots').send({ type: 'mail-mark', input: { ref: 'A1' } });
  expect(created.status).toBe(201);
  const robotId = created.body.robotId as string;
  const mails = () => sink.mails.filter((mail) => mail.raw.includes(robotId));
  // The message is at the relay, whose 250 waits: Postgres goes away now and is back well after it.
  await eventually(async () => (mails().length === 1 ? true : undefined), 20_000);
  await proxy.cut();
  await sleep(ANSWER_DELAY_MS + 4000);
  await proxy.start();

  const robot = await ended(robotId);
  expect(mails()).toHaveLength(1);
  expect(robot.error ?? null).toBeNull();
  expect(robot.status).toBe('completed');
  expect(robot.output?.send).toMatchObject({
    messageId: `<${robotId}.send@rpa-orchestrator>`,
    alreadySent: false,
  });
  const rows = await system.sql.query('select status from sent_emails where robot_id = $1', [robotId]);
  expect(rows.rows).toEqual([{ status: 'sent' }]);
}, 120_000);

it('Postgres away while the step releases its intent after a 451: it waits, retries, sends once and completes (not parked)', async () => {
  const created = await system.api.post('/v1/robots').send({ type: 'mail-later', input: { ref: 'B2' } });
  expect(created.status).toBe(201);
  const robotId = created.body.robotId as string;
  // The relay's 451 cuts Postgres; it stays away longer than the step's three attempts take.
  await eventually(async () => (refusedOnce ? true : undefined), 20_000);
  await sleep(7000);
  await proxy.start();

  const robot = await ended(robotId);
  const mails = sink.mails.filter((mail) => mail.raw.includes(robotId));
  expect(mails).toHaveLength(1);
  expect(robot.error ?? null).toBeNull();
  expect(robot.status).toBe('completed');
  const rows = await system.sql.query('select status from sent_emails where robot_id = $1', [robotId]);
  expect(rows.rows).toEqual([{ status: 'sent' }]);
}, 120_000);

async function ended(robotId: string): Promise<RobotView> {
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${robotId}`);
    const view = res.body as RobotView;
    return res.status === 200 && ['completed', 'failed', 'parked'].includes(view.status) ? view : undefined;
  }, 60_000);
}
