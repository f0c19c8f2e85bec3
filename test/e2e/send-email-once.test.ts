import { setTimeout as sleep } from 'node:timers/promises';
import { simpleParser } from 'mailparser';
import type { RobotView } from '../../core/domain/robot';
import { type SentMail, type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

// send-email under faults, with real module worker processes: a relay slower than the heartbeat
// timeout, a replica paused (SIGSTOP) and one killed while the relay holds its answer to DATA.

let system: TestSystem;
let sink: SmtpSink;
/** How long the sink holds its 250 after DATA; each test sets it. */
let answerDelayMs = 0;
const workers: WorkerProcess[] = [];
const names = new Map<WorkerProcess, string>();

beforeAll(async () => {
  sink = await startSmtpSink({ answerDelayMs: () => answerDelayMs });
  system = await startTestSystem({
    module: false,
    // A failed step must not open the circuit and move the step to another module: one module here.
    env: { STEP_HEARTBEAT_TIMEOUT_SECONDS: '2', CIRCUIT_FAILURE_THRESHOLD: '1000' },
  });
  const registered = await system.api.post('/v1/robot-types').send({
    name: 'mail-once',
    steps: [
      {
        name: 'send',
        kind: 'send-email',
        params: { to: 'ana@example.com', subject: 'Order {{input.ref}}', text: 'Shipped.' },
        timeoutSeconds: 12,
        // Many quick attempts: every repeat a broken step would make is given its chance.
        retry: { maximumAttempts: 10, initialIntervalSeconds: 1, maximumIntervalSeconds: 1 },
      },
    ],
  });
  expect(registered.status).toBe(201);
  await replica('replica-a');
});

afterAll(async () => {
  for (const worker of workers) worker.process.kill('SIGCONT');
  await Promise.all(workers.map((worker) => worker.kill()));
  await system?.close();
  await sink?.close();
});

/** A replica of module `mailer`; its EHLO name says which replica a message came from. */
async function replica(name: string): Promise<WorkerProcess> {
  const worker = spawnModuleWorker(system.config, 'mailer', 5, { SMTP_URL: `${sink.url}/?name=${name}` });
  workers.push(worker);
  names.set(worker, name);
  // Its own line, not the replica count: a paused replica may drop out of that meanwhile.
  await eventually(
    async () => (worker.output().includes('module worker started') ? true : undefined),
    30_000,
  );
  await eventually(async () => {
    const res = await system.api.get('/v1/modules/mailer');
    return res.status === 200 && res.body.live.replicas > 0 ? true : undefined;
  }, 30_000);
  return worker;
}

/** The EHLO name a replica was started with. */
function helo(worker: WorkerProcess): string | undefined {
  return names.get(worker);
}

async function createRobot(ref: string): Promise<string> {
  const created = await system.api.post('/v1/robots').send({ type: 'mail-once', input: { ref } });
  expect(created.status).toBe(201);
  return created.body.robotId as string;
}

function mailsOf(robotId: string): SentMail[] {
  return sink.mails.filter((mail) => mail.raw.includes(robotId));
}

async function robotView(robotId: string): Promise<RobotView> {
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

const ended = (robot: RobotView) => ['completed', 'failed', 'parked'].includes(robot.status);

/** Until the robot ends, or a second message shows the step sent twice (the failure this guards). */
async function settled(robotId: string): Promise<RobotView> {
  return eventually(async () => {
    const robot = await robotView(robotId);
    return ended(robot) || mailsOf(robotId).length > 1 ? robot : undefined;
  }, 60_000);
}

/** The step's attempt now running, once it is a retry that has heartbeated since it started. */
async function retryHeartbeating(robotId: string): Promise<boolean> {
  const description = await system.temporal.workflow.getHandle(robotId).describe();
  const pending = description.raw.pendingActivities?.[0];
  const started = Number(pending?.lastStartedTime?.seconds ?? 0);
  const beat = Number(pending?.lastHeartbeatTime?.seconds ?? 0);
  return (pending?.attempt ?? 0) >= 2 && beat > started;
}

async function sentRow(robotId: string) {
  const rows = await system.sql.query('select status, message_id from sent_emails where robot_id = $1', [
    robotId,
  ]);
  return rows.rows;
}

describe('send-email once, under faults', () => {
  it('a send slower than the heartbeat timeout is not retried while it is in flight', async () => {
    answerDelayMs = 5000; // 2.5× the heartbeat timeout
    const robotId = await createRobot('slow');
    const robot = await settled(robotId);
    expect(mailsOf(robotId)).toHaveLength(1);
    expect(robot.status).toBe('completed');
    expect(robot.output?.send).toMatchObject({ alreadySent: false });
    // One attempt: the heartbeats kept it alive through the whole SMTP exchange.
    const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
    const attempts = (history.events ?? [])
      .map((event) => event.activityTaskStartedEventAttributes?.attempt)
      .filter((attempt) => attempt !== undefined && attempt !== null);
    expect(attempts).toEqual([1]);
  }, 90_000);

  it('a replica paused mid-send: the retry on another replica waits for it and sends nothing', async () => {
    answerDelayMs = 4000;
    const [paused] = workers;
    if (!paused) throw new Error('replica-a is not running');
    const robotId = await createRobot('paused');
    // The message is at the sink; replica-a waits for the 250 — and is frozen there.
    await eventually(async () => (mailsOf(robotId).length === 1 ? true : undefined), 20_000);
    paused.process.kill('SIGSTOP');
    await replica('replica-b');
    // Its heartbeats stop: Temporal retries the step, on replica-b (replica-a cannot poll).
    await eventually(
      async () => (mailsOf(robotId).length > 1 || (await retryHeartbeating(robotId)) ? true : undefined),
      40_000,
    );
    await sleep(1000);
    paused.process.kill('SIGCONT');
    const robot = await settled(robotId);
    const mails = mailsOf(robotId);
    expect(mails.map((mail) => mail.helo)).toEqual(['replica-a']);
    expect(robot.status).toBe('completed');
    const messageId = (await simpleParser(mails[0]?.raw ?? '')).messageId;
    expect(messageId).toBe(`<${robotId}.send@rpa-orchestrator>`);
    // replica-b's attempt completed the step with what replica-a recorded after the 250.
    expect(robot.output?.send).toMatchObject({ alreadySent: true, messageId });
    expect(await sentRow(robotId)).toEqual([{ status: 'sent', message_id: messageId }]);
  }, 120_000);

  it('a replica killed mid-send: not sent again, the robot fails EmailOutcomeUnknown; a robot retry resends with the same Message-ID', async () => {
    answerDelayMs = 4000;
    const robotId = await createRobot('killed');
    await eventually(async () => (mailsOf(robotId).length === 1 ? true : undefined), 20_000);
    const sender = workers.find((worker) => mailsOf(robotId)[0]?.helo === helo(worker));
    if (!sender) throw new Error('no replica sent the message');
    await sender.kill();
    // Another replica takes the retry (a new one when the killed one was alone).
    if (
      workers.filter((worker) => worker.process.exitCode === null && worker.process.signalCode === null)
        .length === 0
    )
      await replica('replica-c');
    const robot = await settled(robotId);
    expect(mailsOf(robotId)).toHaveLength(1);
    expect(robot.status).toBe('failed');
    expect(robot.error).toContain('recorded no outcome');
    const messageId = `<${robotId}.send@rpa-orchestrator>`;
    expect(await sentRow(robotId)).toEqual([{ status: 'sending', message_id: messageId }]);
    const history = await system.temporal.workflow.getHandle(robotId).fetchHistory();
    const failed = history.events?.find((event) => event.activityTaskFailedEventAttributes);
    expect(failed?.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo).toMatchObject({
      type: 'EmailOutcomeUnknown',
      nonRetryable: true,
    });

    // Retrying the robot is the decision to send it again: once more, the same Message-ID.
    answerDelayMs = 0;
    expect((await system.api.post(`/v1/robots/${robotId}/retry`)).status).toBe(202);
    const retried = await eventually(async () => {
      const view = await robotView(robotId);
      return view.status === 'completed' || view.status === 'failed' ? view : undefined;
    }, 30_000);
    expect(retried.status).toBe('completed');
    const mails = mailsOf(robotId);
    expect(mails).toHaveLength(2);
    const ids = await Promise.all(mails.map(async (mail) => (await simpleParser(mail.raw)).messageId));
    expect(ids).toEqual([messageId, messageId]);
    expect(await sentRow(robotId)).toEqual([{ status: 'sent', message_id: messageId }]);
  }, 120_000);
});
