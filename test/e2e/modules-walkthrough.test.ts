import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RobotResponse, StepKindResponse } from '../../cli/api-client';
import { type CliResult, type RunOptions, runRpa } from '../support/rpa-cli';
import { ROOT } from '../support/test-env';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// docs/modules.md, "Quick start in TypeScript", walked as a new user walks it: every step through
// the `rpa` CLI as its own process, the module started with `rpa modules start` on the file
// `rpa modules init` wrote. Where this test and the doc disagree, one of them is wrong.

jest.setTimeout(120_000);

let system: TestSystem;
// Unique per run: the Temporal server (and so the task queue module-<name>) is shared by test files.
const moduleName = `acme-${randomBytes(3).toString('hex')}`;
const kind = `${moduleName}.greet`;
const modulesDir = path.join(ROOT, 'modules');
const moduleDir = path.join(modulesDir, moduleName);
const madeModulesDir = !existsSync(modulesDir);
let workDir: string;
let moduleKey: string;
let moduleProcess: ModuleProcess | undefined;

beforeAll(async () => {
  system = await startTestSystem();
  workDir = mkdtempSync(path.join(tmpdir(), 'rpa-walk-'));
}, 60_000);

afterAll(async () => {
  await moduleProcess?.kill();
  await system?.close();
  rmSync(moduleDir, { recursive: true, force: true });
  // modules/ itself only if this test made it and left it empty.
  if (madeModulesDir && existsSync(modulesDir) && readdirSync(modulesDir).length === 0) rmdirSync(modulesDir);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const rpa = (args: string[], options?: RunOptions): Promise<CliResult> => runRpa(system, args, options);

interface ModuleProcess {
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): Promise<void>;
}

/** `RPA_API_KEY=<key> npx rpa modules start modules/<name>/module.ts`, from the project root. */
function startModuleProcess(file: string, env: Record<string, string>): ModuleProcess {
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'rpa'), 'modules', 'start', file],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_PRETTY: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    output: () => output,
    exited,
    async stop(signal) {
      if (running()) child.kill(signal);
      return exited;
    },
    async kill() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The catalog entry as `rpa step-kinds show` prints it. */
async function showKind(): Promise<StepKindResponse> {
  const shown = await rpa(['step-kinds', 'show', kind]);
  if (shown.code !== 0) throw new Error(`step-kinds show exited ${shown.code}: ${shown.stderr}`);
  return JSON.parse(shown.stdout) as StepKindResponse;
}

const servedByModule = (entry: StepKindResponse) =>
  entry.modules.find((module) => module.name === moduleName);

const greeterYaml = (greeting: string) => `name: greeter
description: Checks the input, greets the person, summarises
inputSchema:
  type: object
  required: [name]
  properties:
    name: { type: string, minLength: 1 }
steps:
  - name: check
    kind: validate
    params: { required: [name] }
  - name: greet
    kind: ${kind}
    params: { greeting: ${greeting} }
  - name: summary
    kind: transform
    params: { fields: [name] }
`;

describe('docs/modules.md: quick start in TypeScript', () => {
  it('1. keys create makes a key with only the modules:write scope', async () => {
    // `rpa keys` works on the database directly: the test system's.
    const databaseUrl = system.config.DATABASE_URL;
    if (!databaseUrl) throw new Error('the test system has no DATABASE_URL');
    const created = await rpa(['keys', 'create', '--name', 'acme', '--scopes', 'modules:write'], {
      env: { DATABASE_URL: databaseUrl },
    });
    expect(created.stderr).toContain('Store the key now');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { key: string; scopes: string[]; name: string };
    expect(key).toMatchObject({ name: 'acme', scopes: ['modules:write'] });
    expect(key.key).toMatch(/^rpa_/);
    moduleKey = key.key;
  });

  it('2. modules init scaffolds modules/<name> with module.ts, the step, its test, tsconfig and README', async () => {
    const init = await rpa(['modules', 'init', moduleName], { cwd: ROOT });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout.trim().split('\n')).toEqual([
      `modules/${moduleName}/steps/${kind}.ts`,
      `modules/${moduleName}/module.ts`,
      `modules/${moduleName}/module.test.ts`,
      `modules/${moduleName}/tsconfig.json`,
      `modules/${moduleName}/README.md`,
    ]);
  });

  it('3. modules start registers the kind, serves it, and the catalog shows it live', async () => {
    const missing = await rpa(['step-kinds', 'show', kind]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`no step kind ${kind} in the catalog`);
    expect(missing.stdout).toBe('');
    // A robot type using the kind is refused until a module has declared it.
    writeFileSync(path.join(workDir, 'greeter.yaml'), greeterYaml('Welcome'));
    const early = await rpa(['robot-types', 'apply', '-f', 'greeter.yaml'], { cwd: workDir });
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(
      `body.steps.1.kind: no module has registered step kind ${kind}; register a module serving it first`,
    );

    moduleProcess = startModuleProcess(`modules/${moduleName}/module.ts`, {
      RPA_API_URL: system.url,
      RPA_API_KEY: moduleKey,
      TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: system.config.TEMPORAL_NAMESPACE,
    });
    const started = moduleProcess;
    const live = await Promise.race([
      eventually(
        async () => {
          const entry = await showKind();
          return servedByModule(entry)?.live ? entry : undefined;
        },
        60_000,
        500,
      ),
      started.exited.then(({ code, signal }) => {
        throw new Error(`the module exited (code ${code}, signal ${signal}):\n${started.output()}`);
      }),
    ]);
    expect(live).toMatchObject({
      name: kind,
      builtIn: false,
      runsOn: 'module',
      version: '1.0.0',
      description: 'Greets the person named in the robot data',
      paramsSchema: { type: 'object', properties: { greeting: { type: 'string', minLength: 1 } } },
      inputSchema: { type: 'object', required: ['name'] },
      outputSchema: { type: 'object', required: ['message'] },
      modules: [{ name: moduleName, version: '1.0.0', kindVersion: '1.0.0', live: true, replicas: 1 }],
    });

    const table = await rpa(['step-kinds', 'list']);
    expect(table.code).toBe(0);
    const escaped = kind.replace(/\./g, '\\.');
    expect(table.stdout).toMatch(
      new RegExp(`^${escaped}\\s+custom\\s+1\\.0\\.0\\s+${moduleName} \\(1 replica\\(s\\)\\)$`, 'm'),
    );
    expect(table.stdout).toMatch(
      new RegExp(`^validate\\s+built-in\\s+\\S+\\s+.*${system.moduleName} \\(1 replica`, 'm'),
    );
    expect(table.stdout).toMatch(/^delay\s+built-in\s+\S+\s+\(the workflow runs it\)$/m);
    const json = await rpa(['step-kinds', 'list', '--json']);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as StepKindResponse[];
    expect(listed.find((entry) => entry.name === kind)).toEqual(live);

    // "`npx rpa modules list` now shows `acme` with one replica."
    const modules = await eventually(
      async () => {
        const listed = await rpa(['modules', 'list']);
        return new RegExp(`^${moduleName}\\s+\\S+\\s+1 replica\\(s\\)`, 'm').test(listed.stdout)
          ? listed
          : undefined;
      },
      15_000,
      500,
    );
    expect(modules.code).toBe(0);
  });

  it('4. robot-types apply: created, then unchanged; params that break the kind’s schema are refused', async () => {
    const created = await rpa(['robot-types', 'apply', '-f', 'greeter.yaml'], { cwd: workDir });
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toBe('created version 1 of greeter\n');

    const again = await rpa(['robot-types', 'apply', '-f', 'greeter.yaml'], { cwd: workDir });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('unchanged (greeter version 1)\n');

    writeFileSync(path.join(workDir, 'greeter-bad.yaml'), greeterYaml('5'));
    const refused = await rpa(['robot-types', 'apply', '-f', 'greeter-bad.yaml'], { cwd: workDir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      'API error 400 Bad Request: body.steps.1.params.greeting: step greet: must be string\n',
    );
    expect(JSON.parse(refused.stdout)).toEqual([
      { field: 'body.steps.1.params.greeting', message: 'step greet: must be string' },
    ]);

    const versions = await rpa(['robot-types', 'versions', 'greeter', '--json']);
    expect((JSON.parse(versions.stdout) as { version: number }[]).map((type) => type.version)).toEqual([1]);
  });

  it('5. a robot runs its built-in steps on the built-in module and the custom step on the new one', async () => {
    const run = await rpa(['robots', 'create', 'greeter', '--input', '-', '--wait'], {
      stdin: '{"name":"Ada"}\n',
    });
    expect(run.code).toBe(0);
    const robotId = (JSON.parse(run.stdout) as RobotResponse).robotId;

    const got = await rpa(['robots', 'get', robotId]);
    expect(got.code).toBe(0);
    const robot = JSON.parse(got.stdout) as RobotResponse;
    expect(robot.status).toBe('completed');
    expect(robot.output?.greet).toEqual({ message: 'Welcome, Ada!' });
    // The doc's `default` is the name `npm start` gives the built-in module; the test system names it.
    expect(robot.progress?.steps.map((step) => [step.name, step.status, step.moduleName])).toEqual([
      ['check', 'completed', system.moduleName],
      ['greet', 'completed', moduleName],
      ['summary', 'completed', system.moduleName],
    ]);
    expect(robot.routing.map((decision) => [decision.step, decision.winner])).toEqual([
      ['check', system.moduleName],
      ['greet', moduleName],
      ['summary', system.moduleName],
    ]);
    expect(robot.links.temporalUi).toContain(robotId);

    // The row is written by the run's last activity, just before the workflow itself closes.
    const handle = system.temporal.workflow.getHandle(robotId);
    await handle.result();
    const described = await handle.describe();
    expect(described.status.name).toBe('COMPLETED');
  });

  it('SIGTERM: the module exits 0 and the catalog no longer shows it live', async () => {
    const started = moduleProcess;
    if (!started) throw new Error('the module was not started');
    expect(await started.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const entry = await showKind();
    expect(servedByModule(entry)).toMatchObject({ live: false, replicas: 0 });
  });
});
