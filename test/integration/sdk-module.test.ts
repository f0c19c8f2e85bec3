import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { RobotView } from '../../core/domain/robot';
import { slugify } from '../../examples/ts-module/slugify.step';
import { defineStep, type ModuleHandle, RegistryError, startModule } from '../../sdk';
import { ROOT } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// A module made with the SDK against the real API, Temporal and Postgres: it registers its kinds
// (the catalog shows them live), robots of a type using them complete on it, a secret param is
// revealed at the module and redacted from the output, a bad input fails the robot for good, and
// a stop deregisters the replica at once while an in-flight step still finishes. Last, the example
// module as its own process under `rpa modules start`, stopped by a real SIGTERM.

jest.setTimeout(120_000);

let system: TestSystem;
let writerKey: string;
const suffix = randomBytes(3).toString('hex');
const moduleName = `sdk-${suffix}`;
const SECRET = 'sign-key-v4lue';

/** What the slow step has done; the stop test watches it. */
const slow = { started: 0, finished: 0 };
const waitStep = defineStep({
  kind: 'sdk.wait',
  version: '1.0.0',
  params: z.object({ ms: z.number().int().min(0).max(60_000) }),
  output: z.object({ waitedMs: z.number() }),
  async run({ params }) {
    slow.started += 1;
    await new Promise((resolve) => setTimeout(resolve, params.ms));
    slow.finished += 1;
    return { waitedMs: params.ms };
  },
});

const signStep = defineStep({
  kind: 'sdk.sign',
  version: '1.0.0',
  params: z.object({ key: z.string().min(8) }),
  input: z.object({ text: z.string() }),
  secrets: ['key'],
  async run({ params, input }) {
    // Echoes the key on purpose: the module must take it out of what leaves it.
    return { signature: `${params.key}/${input.text}` };
  },
});

const moduleEnv = () => ({
  ...process.env,
  TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
  TEMPORAL_NAMESPACE: system.config.TEMPORAL_NAMESPACE,
  DATABASE_URL: system.config.DATABASE_URL,
  SECRETS_KEYS: system.config.SECRETS_KEYS,
  LOG_LEVEL: 'silent',
  WORKER_METRICS_PORT: undefined,
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address ? address.port : 0;
}

type Served = { name: string; live: boolean; replicas: number };
async function servedBy(kind: string, name: string): Promise<Served | undefined> {
  const res = await system.api.get(`/v1/step-kinds/${kind}`);
  expect(res.status).toBe(200);
  return (res.body.modules as Served[]).find((module) => module.name === name);
}

/** Replicas of a module the state store still holds, expired or not: a removed one is gone, an expired one is not. */
async function heldReplicas(name: string): Promise<string[]> {
  const state = await system.moduleStores.state.snapshot(Date.now() - 60_000);
  return (state.get(name)?.replicas ?? []).map((replica) => replica.replicaId);
}

async function runRobot(type: string, input: Record<string, unknown>): Promise<RobotView> {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  return eventually(async () => {
    const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
    return ['completed', 'failed', 'parked'].includes(res.body.status) ? (res.body as RobotView) : undefined;
  }, 60_000);
}

beforeAll(async () => {
  system = await startTestSystem({ module: false });
  const writer = await system.api
    .post('/v1/keys')
    .send({ name: 'sdk module', scopes: ['modules:write', 'modules:read'] });
  expect(writer.status).toBe(201);
  writerKey = writer.body.key;
  expect((await system.api.post('/v1/secrets').send({ name: 'sign-key', value: SECRET })).status).toBe(201);
});

afterAll(async () => {
  await system?.close();
});

describe('startModule refusals', () => {
  it('names a bad API key, and a key without modules:write, and registers nothing', async () => {
    const start = (apiKey: string) =>
      startModule({
        name: `${moduleName}-refused`,
        capacity: 1,
        steps: [slugify],
        apiUrl: system.url,
        apiKey,
        env: moduleEnv(),
        handleSignals: false,
      }).catch((err: unknown) => err);

    const bad = await start('rpa_not-a-key');
    expect(bad).toBeInstanceOf(RegistryError);
    expect((bad as RegistryError).status).toBe(401);
    expect((bad as Error).message).toContain(
      `registering module ${moduleName}-refused at ${system.url}: 401`,
    );
    expect((bad as Error).message).toContain('RPA_API_KEY, or the apiKey option, must be a valid API key');

    const reader = await system.api.post('/v1/keys').send({ name: 'reader', scopes: ['modules:read'] });
    const forbidden = await start(reader.body.key);
    expect((forbidden as RegistryError).status).toBe(403);
    expect((forbidden as Error).message).toContain('the API key needs the scope modules:write');

    expect((await system.api.get(`/v1/modules/${moduleName}-refused`)).status).toBe(404);
  });
});

describe('a module made with the SDK', () => {
  let handle: ModuleHandle;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    handle = await startModule({
      name: moduleName,
      version: '1.0.0',
      capacity: 4,
      steps: [slugify, waitStep, signStep],
      apiUrl: system.url,
      apiKey: writerKey,
      env: moduleEnv(),
      handleSignals: false,
      shutdownGraceMs: 20_000,
      metricsPort,
    });
  });

  afterAll(async () => {
    await handle?.stop();
  });

  it('registers its kinds, with their schemas, and shows in the catalog as live', async () => {
    expect(handle.taskQueue).toBe(`module-${moduleName}`);
    const res = await system.api.get('/v1/step-kinds/text.slugify');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'text.slugify',
      builtIn: false,
      runsOn: 'module',
      version: '1.0.0',
      description: 'Turns the text of the robot data into a URL slug',
      paramsSchema: slugify.declaration.params,
      inputSchema: slugify.declaration.input,
      outputSchema: slugify.declaration.output,
    });
    expect(await servedBy('text.slugify', moduleName)).toMatchObject({ live: true, replicas: 1 });
    expect((await system.api.get('/v1/step-kinds/sdk.sign')).body.secretParams).toEqual(['key']);
  });

  it('stays live past the replica TTL: it heartbeats', async () => {
    await new Promise((resolve) =>
      setTimeout(resolve, (system.config.MODULE_REPLICA_TTL_SECONDS + 1) * 1000),
    );
    expect(await servedBy('text.slugify', moduleName)).toMatchObject({ live: true, replicas: 1 });
  });

  it('has robot types checked against the schemas it declared', async () => {
    const res = await system.api.post('/v1/robot-types').send({
      name: `bad-slug-${suffix}`,
      steps: [{ name: 'slug', kind: 'text.slugify', params: { separator: '.', maxLength: 2 } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((error: { field: string }) => error.field).sort()).toEqual([
      'body.steps.0.params.maxLength',
      'body.steps.0.params.separator',
    ]);
    expect((await system.api.get(`/v1/robot-types/bad-slug-${suffix}`)).status).toBe(404);
  });

  it('runs a robot of a type using its kinds to completion, routed to it', async () => {
    const type = await system.api.post('/v1/robot-types').send({
      name: `slug-${suffix}`,
      steps: [
        { name: 'slug', kind: 'text.slugify', params: { separator: '_' } },
        { name: 'sign', kind: 'sdk.sign', params: { key: { $secret: 'sign-key' } } },
      ],
    });
    expect(type.status).toBe(201);

    const done = await runRobot(`slug-${suffix}`, { text: 'Crème Brûlée for 2' });
    expect(done.status).toBe('completed');
    expect(done.moduleName).toBe(moduleName);
    expect(done.output).toEqual({
      slug: { slug: 'creme_brulee_for_2' },
      // Revealed at the module (the step saw the value), redacted on the way out.
      sign: { signature: '[secret:sign-key]/Crème Brûlée for 2' },
    });
    expect(JSON.stringify(done)).not.toContain(SECRET);
    expect(done.routing.at(-1)).toMatchObject({ winner: moduleName });
  });

  it('fails a robot whose data does not fit the step, for good, naming the field', async () => {
    const done = await runRobot(`slug-${suffix}`, { title: 'no text' });
    expect(done.status).toBe('failed');
    expect(done.error).toContain("step slug: the robot's data does not fit: input.text: ");
  });

  it('serves step counts per kind on its metrics port', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain(
      `rpa_module_steps_total{module="${moduleName}",step="text.slugify",outcome="ok"} 1`,
    );
    expect(text).toContain(
      `rpa_module_steps_total{module="${moduleName}",step="text.slugify",outcome="permanent"} 1`,
    );
    expect(text).toContain(`rpa_module_step_run_seconds_count{module="${moduleName}",step="sdk.sign"} 1`);
  });

  it('on stop, deregisters its replica at once and lets the in-flight step finish within the grace period', async () => {
    const type = await system.api.post('/v1/robot-types').send({
      name: `wait-${suffix}`,
      steps: [{ name: 'wait', kind: 'sdk.wait', params: { ms: 4000 }, timeoutSeconds: 30 }],
    });
    expect(type.status).toBe(201);
    const created = await system.api.post('/v1/robots').send({ type: `wait-${suffix}`, input: {} });
    expect(created.status).toBe(201);
    await eventually(async () => (slow.started === 1 ? true : undefined));

    expect(await heldReplicas(moduleName)).toEqual([handle.replicaId]);
    const stopping = handle.stop();
    // Routing sees it gone while the step still runs: removed, not waiting for its TTL.
    await eventually(async () => ((await heldReplicas(moduleName)).length === 0 ? true : undefined), 3000);
    expect(slow.finished).toBe(0);
    expect(await servedBy('sdk.wait', moduleName)).toMatchObject({ live: false, replicas: 0 });

    await stopping;
    expect(slow.finished).toBe(1);
    const done = await eventually(async () => {
      const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
      return res.body.status === 'completed' ? (res.body as RobotView) : undefined;
    });
    expect(done.output).toEqual({ wait: { waitedMs: 4000 } });
    expect(slow.started).toBe(1); // finished where it started: not retried elsewhere
    await handle.done;
  });
});

describe('the example module under rpa modules start', () => {
  let child: ChildProcess | undefined;

  /** `rpa modules start` on the example, as a user runs it; its output collected. */
  function startExample() {
    const proc = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'rpa'), 'modules', 'start', 'examples/ts-module/module.ts'],
      {
        cwd: ROOT,
        env: { ...moduleEnv(), RPA_API_URL: system.url, RPA_API_KEY: writerKey, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk;
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    return { child: proc, exited: once(proc, 'exit'), output: () => output };
  }

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('registers, serves, and on SIGTERM deregisters its replica and exits 0', async () => {
    const started = startExample();
    child = started.child;
    const { exited, output } = started;

    await eventually(async () => ((await servedBy('text.slugify', 'text'))?.live ? true : undefined), 60_000);
    expect(await heldReplicas('text')).toHaveLength(1);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect({ code, output: output() }).toMatchObject({ code: 0 });
    expect(output()).toContain('module stopped');
    expect(await heldReplicas('text')).toEqual([]);
    expect(await servedBy('text.slugify', 'text')).toMatchObject({ live: false });
  });

  it('a SIGTERM while it is still starting stops it the same orderly way (exit 0, no replica left)', async () => {
    // Registered but not yet serving: the signal lands while it connects to Temporal. Without a
    // listener from the first moment, the process would die by the signal (code null).
    await system.api.delete('/v1/modules/text');
    const started = startExample();
    child = started.child;
    const { exited, output } = started;
    await eventually(async () => {
      const res = await system.api.get('/v1/modules/text');
      return res.status === 200 && res.body.isActive ? true : undefined;
    }, 60_000);
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    expect({ code, signal, output: output() }).toMatchObject({ code: 0, signal: null });
    expect(output()).toContain('module stopped');
    expect(await heldReplicas('text')).toEqual([]);
  });
});
