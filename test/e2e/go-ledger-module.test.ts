import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RobotView } from '../../core/domain/robot';
import { type GoReplica, killLedgerReplicas, startLedgerReplica } from '../support/go-module';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// The Go example module (examples/ledger-module) as a user runs it: its own processes, registering
// and heartbeating over the API with a modules:write key, serving the custom kind ledger.post.

let system: TestSystem;
let ledgerDir: string;
let moduleKey: string;
// Unique per run: the Temporal server (and so the task queue module-<name>) is shared by test files.
const moduleName = `ledger-${randomBytes(3).toString('hex')}`;
const replicas: GoReplica[] = [];

const GRACE_SECONDS = 8;

function replicaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: system.config.TEMPORAL_NAMESPACE,
    RPA_API_URL: system.url,
    RPA_API_KEY: moduleKey,
    MODULE_NAME: moduleName,
    MODULE_CAPACITY: '2',
    LEDGER_DIR: ledgerDir,
    SHUTDOWN_GRACE: `${GRACE_SECONDS}s`,
    ...extra,
  };
}

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  ledgerDir = await mkdtemp(path.join(tmpdir(), 'rpa-ledger-'));
  moduleKey = (
    await system.security.keys.create({ name: 'ledger-module', scopes: ['modules:write'], expiresAt: null })
  ).key;
  replicas.push(await startLedgerReplica(replicaEnv()), await startLedgerReplica(replicaEnv()));
}, 60_000);

afterAll(async () => {
  await killLedgerReplicas();
  await system?.close();
  if (ledgerDir) await rm(ledgerDir, { recursive: true, force: true });
});

type Served = { name: string; live: boolean; replicas: number };

async function ledgerPost(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await system.api.get('/v1/step-kinds/ledger.post');
  return { status: res.status, body: res.body };
}

async function liveReplicas(): Promise<number> {
  const { body } = await ledgerPost();
  const served = (body.modules as Served[] | undefined)?.find((module) => module.name === moduleName);
  return served?.replicas ?? 0;
}

async function runRobot(type: string, input: Record<string, unknown>): Promise<RobotView> {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  const robotId: string = created.body.robotId;
  await system.temporal.workflow
    .getHandle(robotId)
    .result()
    .catch(() => undefined);
  return (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
}

async function attemptsOf(robotId: string): Promise<string[]> {
  const log = await readFile(path.join(ledgerDir, 'attempts.log'), 'utf8').catch(() => '');
  return log
    .split('\n')
    .filter((line) => line.startsWith(`${robotId}.`))
    .map((line) => line.slice(robotId.length + 1));
}

async function entriesOf(robotId: string): Promise<string[]> {
  return (await readdir(ledgerDir)).filter((file) => file.startsWith(robotId));
}

describe('the Go ledger module', () => {
  it('is in the step catalog with its declaration and two live replicas', async () => {
    await eventually(async () => ((await liveReplicas()) === 2 ? true : undefined), 15_000);
    const { status, body } = await ledgerPost();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      name: 'ledger.post',
      builtIn: false,
      runsOn: 'module',
      version: '1.0.0',
      description: 'Posts one entry to the ledger, exactly once per robot and step',
      secretParams: [],
      paramsSchema: {
        type: 'object',
        required: ['account', 'currency'],
        additionalProperties: false,
        properties: { currency: { pattern: '^[A-Z]{3}$' }, amount: { exclusiveMinimum: 0 } },
      },
      inputSchema: { properties: { amount: { type: 'number' } } },
      outputSchema: { required: ['entryId', 'account', 'amount', 'currency', 'replica'] },
      modules: [
        {
          name: moduleName,
          version: '1.0.0',
          kindVersion: '1.0.0',
          live: true,
          replicas: 2,
          isActive: true,
          draining: false,
        },
      ],
    });
  });

  it('refuses a robot type whose ledger.post params break the declared schema, and stores nothing', async () => {
    const res = await system.api.post('/v1/robot-types').send({
      name: 'bad-posting',
      steps: [{ name: 'post', kind: 'ledger.post', params: { account: '4000', currency: 'euro' } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { field: 'body.steps.0.params.currency', message: expect.stringContaining('step post: ') },
    ]);
    expect((await system.api.get('/v1/robot-types/bad-posting')).status).toBe(404);
  });

  it('runs a robot through ledger.post: completed, the entry written once by the replica that ran it', async () => {
    const registered = await system.api.post('/v1/robot-types').send({
      name: 'invoice-posting',
      steps: [
        { name: 'post', kind: 'ledger.post', params: { account: '4000', currency: 'EUR', memo: 'invoice' } },
      ],
    });
    expect(registered.status).toBe(201);

    const robot = await runRobot('invoice-posting', { amount: 120.5 });
    expect(robot.status).toBe('completed');
    expect(robot.moduleName).toBe(moduleName);
    const output = robot.output?.post as Record<string, unknown>;
    expect(output).toEqual({
      entryId: expect.stringMatching(/^le_[0-9a-f]{16}$/),
      account: '4000',
      amount: 120.5,
      currency: 'EUR',
      replica: expect.any(String),
    });
    expect(replicas.map((replica) => replica.replicaId)).toContain(output.replica);

    expect(await entriesOf(robot.robotId)).toEqual([`${robot.robotId}.post.json`]);
    const entry = JSON.parse(await readFile(path.join(ledgerDir, `${robot.robotId}.post.json`), 'utf8'));
    expect(entry).toMatchObject({ ...output, memo: 'invoice', robotId: robot.robotId, step: 'post' });
    expect(await attemptsOf(robot.robotId)).toEqual([`post ${output.replica}`]);
  }, 60_000);

  it('fails the robot with the step’s reason on a bad amount or an unknown currency, writing nothing', async () => {
    const zero = await runRobot('invoice-posting', { amount: 0 });
    expect(zero.status).toBe('failed');
    expect(zero.error).toContain('ledger.post: amount must be a number above 0, got 0');
    expect(await entriesOf(zero.robotId)).toEqual([]);
    // A business failure is not retried: one attempt.
    expect(await attemptsOf(zero.robotId)).toHaveLength(1);

    const registered = await system.api.post('/v1/robot-types').send({
      name: 'odd-currency',
      steps: [{ name: 'post', kind: 'ledger.post', params: { account: '4000', currency: 'XYZ' } }],
    });
    expect(registered.status).toBe(201);
    const odd = await runRobot('odd-currency', { amount: 10 });
    expect(odd.status).toBe('failed');
    expect(odd.error).toContain('ledger.post: unknown currency "XYZ"');
    expect(await entriesOf(odd.robotId)).toEqual([]);
    expect(await attemptsOf(odd.robotId)).toHaveLength(1);
  }, 60_000);

  it('SIGTERM: the replica leaves the catalog at once and exits 0; one with a step in flight finishes it first', async () => {
    const [idle, other] = replicas as [GoReplica, GoReplica];
    const stopped = Date.now();
    const exit = idle.stop('SIGTERM');
    // Within a second, well before its last heartbeat (1 s apart) could expire (3 s TTL): the replica
    // deleted itself.
    await eventually(async () => ((await liveReplicas()) === 1 ? true : undefined), 1_000, 50);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopped).toBeLessThan(GRACE_SECONDS * 1000);

    // The only replica left holds each step 3 s before writing.
    const slow = await startLedgerReplica(replicaEnv({ LEDGER_POST_DELAY_MS: '3000' }));
    replicas.push(slow);
    expect(await other.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    await eventually(async () => ((await liveReplicas()) === 1 ? true : undefined), 1_000, 50);

    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'invoice-posting', input: { amount: 7 } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await eventually(async () => ((await attemptsOf(robotId)).length === 1 ? true : undefined), 15_000, 50);
    const draining = Date.now();
    const slowExit = slow.stop('SIGTERM');
    await eventually(async () => ((await liveReplicas()) === 0 ? true : undefined), 1_000, 50);
    expect(await entriesOf(robotId)).toEqual([]); // still holding: stopped mid-step
    expect(await slowExit).toEqual({ code: 0, signal: null });
    expect(Date.now() - draining).toBeLessThan(GRACE_SECONDS * 1000);

    // It finished the step before exiting: the robot completes, the entry written once, by it.
    await system.temporal.workflow.getHandle(robotId).result();
    const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
    expect(robot.status).toBe('completed');
    expect(robot.output?.post).toMatchObject({ amount: 7, replica: slow.replicaId });
    expect(await entriesOf(robotId)).toEqual([`${robotId}.post.json`]);
    expect(await attemptsOf(robotId)).toEqual([`post ${slow.replicaId}`]);
  }, 90_000);
});
