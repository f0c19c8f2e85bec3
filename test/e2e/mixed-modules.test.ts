import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { idempotencyKey } from '../../core/adapters/crypto/step-idempotency-key';
import type { RobotView } from '../../core/domain/robot';
import { ModuleNameKey } from '../../core/domain/search-attributes';
import { defineStep, type ModuleHandle, startModule } from '../../sdk';
import { type GoReplica, killLedgerReplicas, startLedgerReplica } from '../support/go-module';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The module contract's acceptance test (issue 15): one robot whose steps run on three kinds of
// module — a built-in step (http-request) on the built-in module worker, a custom kind made with the
// TypeScript SDK (tally.record), and the Go example module's ledger.post on two replicas — with the
// Go replica running the ledger step killed by SIGKILL mid-step. Temporal retries the attempt on the
// survivor, and every step's side effect still happens exactly once.

jest.setTimeout(120_000);

const suffix = randomBytes(3).toString('hex');
// Unique per run: the Temporal server (and so the task queues module-<name>) is shared by test files.
const tallyModule = `tally-${suffix}`;
const ledgerModule = `ledger-${suffix}`;
const ROBOT_TYPE = 'mixed-invoice';
/** Long enough to kill the replica holding the step before it writes the entry. */
const LEDGER_POST_DELAY_MS = 5000;

let system: TestSystem;
let workDir: string;
let ledgerDir: string;
let tallyDir: string;
let tally: ModuleHandle | undefined;
const replicas: GoReplica[] = [];

interface Received {
  method: string;
  url: string;
  idempotencyKey: string | undefined;
  body: unknown;
}
let server: http.Server | undefined;
let base = '';
const received: Received[] = [];

/**
 * A custom step whose side effect can be counted: one mark file per (robotId, step name), created
 * with O_EXCL so a repeated attempt finds it and returns it, plus a line per attempt.
 */
const tallyStep = defineStep({
  kind: 'tally.record',
  version: '1.0.0',
  description: 'Records one tally mark per robot and step, with the ticket the robot reserved',
  params: z.object({ label: z.string().min(1).max(40) }),
  output: z.object({ mark: z.string(), label: z.string(), ticket: z.string() }),
  async run({ params, previous, robotId, stepName, attempt }) {
    const key = `${robotId}.${stepName}`;
    await appendFile(path.join(tallyDir, 'attempts.log'), `${key} ${attempt}\n`);
    const ticket = String(previous.reserve?.ticket ?? '');
    const mark = { mark: key, label: params.label, ticket };
    try {
      await writeFile(path.join(tallyDir, `${key}.json`), JSON.stringify(mark), { flag: 'wx' });
      return mark;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return JSON.parse(await readFile(path.join(tallyDir, `${key}.json`), 'utf8'));
    }
  },
});

function ledgerEnv(moduleKey: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: system.config.TEMPORAL_NAMESPACE,
    RPA_API_URL: system.url,
    RPA_API_KEY: moduleKey,
    MODULE_NAME: ledgerModule,
    MODULE_CAPACITY: '2',
    LEDGER_DIR: ledgerDir,
    LEDGER_POST_DELAY_MS: String(LEDGER_POST_DELAY_MS),
    SHUTDOWN_GRACE: '2s',
  };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const header = req.headers['idempotency-key'];
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: recorded as sent, and the assertion on it fails
      }
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        idempotencyKey: Array.isArray(header) ? header.join(',') : header,
        body,
      });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ticket: `T-${received.length}` }));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  workDir = await mkdtemp(path.join(tmpdir(), 'rpa-mixed-'));
  ledgerDir = path.join(workDir, 'ledger');
  tallyDir = path.join(workDir, 'tally');
  await Promise.all([mkdir(ledgerDir), mkdir(tallyDir)]);

  // The default module of the test system is the built-in module worker (all built-in kinds).
  system = await startTestSystem({
    env: {
      HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
      // A killed replica's attempt times out 3 s after its last heartbeat, not the default 10 s.
      STEP_HEARTBEAT_TIMEOUT_SECONDS: '3',
      MODULE_PICKUP_TIMEOUT_SECONDS: '5',
    },
  });
  const moduleKey = (
    await system.security.keys.create({ name: 'mixed modules', scopes: ['modules:write'], expiresAt: null })
  ).key;

  tally = await startModule({
    name: tallyModule,
    version: '1.0.0',
    capacity: 2,
    steps: [tallyStep],
    apiUrl: system.url,
    apiKey: moduleKey,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: system.config.TEMPORAL_NAMESPACE,
      DATABASE_URL: system.config.DATABASE_URL,
      SECRETS_KEYS: system.config.SECRETS_KEYS,
      LOG_LEVEL: 'silent',
      WORKER_METRICS_PORT: undefined,
    },
    handleSignals: false,
    shutdownGraceMs: 2000,
  });
  replicas.push(
    await startLedgerReplica(ledgerEnv(moduleKey)),
    await startLedgerReplica(ledgerEnv(moduleKey)),
  );
}, 90_000);

afterAll(async () => {
  await tally?.stop();
  await killLedgerReplicas();
  await system?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

type Served = { name: string; live: boolean; replicas: number };

async function servedBy(kind: string): Promise<Served[]> {
  const res = await system.api.get(`/v1/step-kinds/${kind}`);
  expect(res.status).toBe(200);
  return res.body.modules as Served[];
}

/** Lines "<robotId>.<step> <who>" of a module's attempts log for one robot: who started each attempt. */
async function attemptsOf(dir: string, robotId: string): Promise<string[]> {
  const log = await readFile(path.join(dir, 'attempts.log'), 'utf8').catch(() => '');
  return log
    .split('\n')
    .filter((line) => line.startsWith(`${robotId}.`))
    .map((line) => line.slice(robotId.length + 1));
}

async function filesOf(dir: string, robotId: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => file.startsWith(robotId));
}

const mixedSteps = (tallyParams: Record<string, unknown>) => [
  {
    name: 'reserve',
    kind: 'http-request',
    params: {
      method: 'POST',
      url: `${base}/tickets`,
      body: { amount: '{{input.amount}}', robot: '{{robotId}}' },
      pick: { ticket: '/ticket' },
    },
  },
  { name: 'tally', kind: 'tally.record', params: tallyParams },
  {
    name: 'post',
    kind: 'ledger.post',
    params: { account: '4000', currency: 'EUR', memo: 'mixed' },
    timeoutSeconds: 60,
  },
];

describe('one robot through a built-in, a TypeScript and a Go module', () => {
  it('has all three kinds in the catalog, each served by its live module', async () => {
    expect(await servedBy('http-request')).toEqual([
      expect.objectContaining({ name: system.moduleName, live: true, replicas: 1 }),
    ]);
    expect(await servedBy('tally.record')).toEqual([
      expect.objectContaining({ name: tallyModule, live: true, replicas: 1 }),
    ]);
    const ledger = await eventually(async () => {
      const modules = await servedBy('ledger.post');
      return modules[0]?.replicas === 2 ? modules : undefined;
    }, 15_000);
    expect(ledger).toEqual([expect.objectContaining({ name: ledgerModule, live: true, replicas: 2 })]);
  });

  it('refuses a mixed type whose custom step params break the declared schema, or whose kind nobody serves', async () => {
    const badParams = await system.api
      .post('/v1/robot-types')
      .send({ name: 'mixed-bad-params', steps: mixedSteps({ label: '' }) });
    expect(badParams.status).toBe(400);
    expect(badParams.body.errors).toEqual([
      { field: 'body.steps.1.params.label', message: expect.stringContaining('step tally: ') },
    ]);
    expect((await system.api.get('/v1/robot-types/mixed-bad-params')).status).toBe(404);

    const steps = mixedSteps({ label: 'x' });
    const unserved = await system.api.post('/v1/robot-types').send({
      name: 'mixed-unserved',
      steps: [steps[0], { name: 'tally', kind: 'tally.count', params: {} }, steps[2]],
    });
    expect(unserved.status).toBe(400);
    expect(unserved.body.errors).toEqual([
      {
        field: 'body.steps.1.kind',
        message: expect.stringContaining('no module has registered step kind tally.count'),
      },
    ]);
    expect((await system.api.get('/v1/robot-types/mixed-unserved')).status).toBe(404);
  });

  it('completes with each step once on its module, the Go step retried on the survivor after a SIGKILL', async () => {
    const registered = await system.api
      .post('/v1/robot-types')
      .send({ name: ROBOT_TYPE, steps: mixedSteps({ label: 'invoices' }) });
    expect(registered.status).toBe(201);

    const created = await system.api.post('/v1/robots').send({ type: ROBOT_TYPE, input: { amount: 42.5 } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;

    // The ledger attempt has started on one replica: kill exactly that one, no deregistration.
    const [firstAttempt] = await eventually(async () => {
      const lines = await attemptsOf(ledgerDir, robotId);
      return lines.length > 0 ? lines : undefined;
    }, 30_000);
    const victim = replicas.find((replica) => firstAttempt === `post ${replica.replicaId}`);
    if (!victim?.process.pid) throw new Error(`no running replica started the attempt: ${firstAttempt}`);
    const survivor = replicas.find((replica) => replica !== victim) as GoReplica;
    process.kill(victim.process.pid, 'SIGKILL');
    expect(await victim.stop()).toEqual({ code: null, signal: 'SIGKILL' });
    // Killed inside the step: nothing written yet.
    expect(await filesOf(ledgerDir, robotId)).toEqual([]);

    const robot = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${robotId}`);
      return ['completed', 'failed', 'parked'].includes(res.body.status)
        ? (res.body as RobotView)
        : undefined;
    }, 60_000);
    expect(robot.error).toBeNull();
    expect(robot.status).toBe('completed');

    // The ledger step: two attempts, the killed replica's then the survivor's; the entry once, by the survivor.
    expect(await attemptsOf(ledgerDir, robotId)).toEqual([
      `post ${victim.replicaId}`,
      `post ${survivor.replicaId}`,
    ]);
    expect(await filesOf(ledgerDir, robotId)).toEqual([`${robotId}.post.json`]);
    const entry = JSON.parse(await readFile(path.join(ledgerDir, `${robotId}.post.json`), 'utf8'));
    expect(entry).toMatchObject({ robotId, step: 'post', amount: 42.5, replica: survivor.replicaId });

    // The built-in step: one request, with the step's Idempotency-Key.
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/tickets',
        idempotencyKey: idempotencyKey(robotId, 'reserve'),
        body: { amount: 42.5, robot: robotId },
      },
    ]);

    // The TypeScript step: one attempt, one mark.
    expect(await attemptsOf(tallyDir, robotId)).toEqual(['tally 1']);
    expect(await filesOf(tallyDir, robotId)).toEqual([`${robotId}.tally.json`]);

    // Each step's output reached the next module: the ticket from the HTTP server is in the tally.
    expect(robot.output).toEqual({
      reserve: { status: 201, ticket: 'T-1' },
      tally: { mark: `${robotId}.tally`, label: 'invoices', ticket: 'T-1' },
      post: {
        entryId: entry.entryId,
        account: '4000',
        amount: 42.5,
        currency: 'EUR',
        replica: survivor.replicaId,
      },
    });

    // Routed per step, one decision each, no failover: the retry stayed on the Go module's queue.
    expect(robot.routing.map((decision) => [decision.cause, decision.step, decision.winner])).toEqual([
      ['initial', 'reserve', system.moduleName],
      ['initial', 'tally', tallyModule],
      ['initial', 'post', ledgerModule],
    ]);
    expect(robot.progress?.steps.map((step) => [step.name, step.status, step.moduleName])).toEqual([
      ['reserve', 'completed', system.moduleName],
      ['tally', 'completed', tallyModule],
      ['post', 'completed', ledgerModule],
    ]);
    expect(robot.moduleName).toBe(ledgerModule);
    expect(robot.retryCount).toBe(0);

    // The row is written by the run's last activity, just before the workflow itself closes.
    const handle = system.temporal.workflow.getHandle(robotId);
    await handle.result();
    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(description.typedSearchAttributes.get(ModuleNameKey)).toBe(ledgerModule);
  });
});
