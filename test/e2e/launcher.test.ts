import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `rpa start` as a newcomer runs it: embedded PGlite, in-memory cache, its own Temporal dev server.
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');
const ports = { api: 3077, temporal: 7277, ui: 8277, pglite: 5477 };
const dataDirs: string[] = [];

function newDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rpa-launcher-'));
  dataDirs.push(dir);
  return dir;
}

function launcherEnv(dataDir: string, cacheDir?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(cacheDir ? { LAUNCHER_CACHE_DIR: cacheDir } : {}),
    DATA_DIR: dataDir,
    PGLITE_DIR: path.join(dataDir, 'pglite'),
    PORT: String(ports.api),
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_DEV_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    PGLITE_PORT: String(ports.pglite),
    LOG_LEVEL: 'info',
  };
  for (const name of [
    'DATABASE_URL',
    'DATABASE_READ_URL',
    'REDIS_URL',
    'WORKFLOW_BUNDLE_PATH',
    'CONTROL_TASK_QUEUE',
  ]) {
    delete env[name];
  }
  return env;
}

/** Lines at error level from the children's logs: what a failed start needs to be diagnosed. */
function loggedErrors(dataDir: string): string {
  const dir = path.join(dataDir, 'logs');
  if (!existsSync(dir)) return '(no logs)';
  return readdirSync(dir)
    .flatMap((file) =>
      readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line))
        .map((line) => `${file}: ${line.slice(0, 2000)}`),
    )
    .join('\n');
}

interface Launcher {
  child: ChildProcess;
  dataDir: string;
  output(): string;
  /** Resolves once the output holds `text`; rejects if the launcher exits first or it takes too long. */
  printed(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `rpa start` the way a terminal runs a command: as the leader of its own process group, the
 * group a Ctrl-C is sent to.
 */
function launch(dataDir: string, cacheDir?: string): Launcher {
  const child = spawn(process.execPath, [rpa, 'start'], {
    env: launcherEnv(dataDir, cacheDir),
    detached: true,
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const printed = (text: string, timeoutMs = 150_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`launcher did not print "${text}" in time:\n${output}`));
      }, timeoutMs);
      const check = () => {
        if (!output.includes(text)) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(
            `launcher exited (${signal ?? code}) before printing "${text}":\n${output}\nerrors logged:\n${loggedErrors(dataDir)}`,
          ),
        );
      });
    });
  return { child, dataDir, output: () => output, printed, exited };
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
function ctrlC(launcher: Launcher): void {
  if (launcher.child.pid) process.kill(-launcher.child.pid, 'SIGINT');
}

/** Processes whose environment names this data directory: the launcher's children and theirs. */
function processesOf(dataDir: string): string[] {
  const marker = `DATA_DIR=${dataDir}`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        if (!environ.includes(marker)) return [];
        return [`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`];
      } catch {
        return []; // gone meanwhile, or not ours to read
      }
    });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1000 });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * A clean stop: exit status 130 (the launcher's documented answer to Ctrl-C), "stopped" as the last
 * line, no error or stack trace, no process left, every port free.
 */
async function expectCleanStop(launcher: Launcher): Promise<void> {
  const { code, signal } = await launcher.exited;
  const output = launcher.output();
  expect({ code, signal, output }).toEqual({ code: 130, signal: null, output });
  expect(output).toMatch(/stopping…\nstopped\n$/);
  expect(output).not.toContain('✗');
  expect(output).not.toContain('fetch failed');
  expect(output).not.toMatch(/^\s+at /m);
  expect(processesOf(launcher.dataDir)).toEqual([]);
  const open = await Promise.all(Object.values(ports).map((port) => listening(port)));
  expect(Object.fromEntries(Object.keys(ports).map((name, i) => [name, open[i]]))).toEqual({
    api: false,
    temporal: false,
    ui: false,
    pglite: false,
  });
}

/** The local admin key the launcher made on first start and keeps in launcher.json. */
function localKey(dataDir: string): { authorization: string } {
  const { apiKey } = JSON.parse(readFileSync(path.join(dataDir, 'launcher.json'), 'utf8')) as {
    apiKey: string;
  };
  return { authorization: `Bearer ${apiKey}` };
}

type RobotList = { items: { robotId: string; type: string; status: string }[] };

async function robots(dataDir: string): Promise<RobotList> {
  return (await (
    await fetch(`http://127.0.0.1:${ports.api}/v1/robots`, { headers: localKey(dataDir) })
  ).json()) as RobotList;
}

type ModuleList = { items: { name: string; live: { replicas: number } }[] };

async function eventuallyModules(
  dataDir: string,
  done: (items: ModuleList['items']) => boolean,
): Promise<ModuleList['items']> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await (
      await fetch(`http://127.0.0.1:${ports.api}/v1/modules`, { headers: localKey(dataDir) })
    ).json()) as ModuleList;
    if (done(body.items)) return body.items;
    if (Date.now() > deadline) throw new Error(`modules never matched: ${JSON.stringify(body.items)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

afterEach(async () => {
  // A failed test must not leave a launcher holding the ports for the next one.
  for (const dir of dataDirs) {
    for (const line of processesOf(dir)) {
      const pid = Number(line.split(':')[0]);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('rpa start', () => {
  it('brings the system up, completes the demo robot, stops cleanly, and keeps data for the next start', async () => {
    const dataDir = newDataDir();
    const first = launch(dataDir);
    await first.printed('Ready.');
    expect(first.output()).toMatch(
      /demo robot completed in \d+ ms \(classified as "invoice"\), \d+\.\d s after launch/,
    );
    expect(first.output()).toContain(`http://127.0.0.1:${ports.ui}/namespaces/default/workflows/`);
    expect(first.output()).toContain(localKey(dataDir).authorization.slice('Bearer '.length));
    const unauthenticated = await fetch(`http://127.0.0.1:${ports.api}/v1/robots`);
    expect(unauthenticated.status).toBe(401);

    const list = await robots(dataDir);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ type: 'demo', status: 'completed' });
    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    // The dashboard's static files ship with the source tree that bin/rpa runs (as in the Docker image).
    expect(first.output()).toContain(`dashboard: http://127.0.0.1:${ports.api}/dashboard/`);
    const dashboard = await fetch(`http://127.0.0.1:${ports.api}/dashboard/app.mjs`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/javascript/);

    // A module added by hand from another terminal joins the launcher's embedded database.
    const handAdded = spawn(process.execPath, [rpa, 'worker', '--module', 'second', '--capacity', '2'], {
      env: launcherEnv(dataDir),
    });
    const modules = await eventuallyModules(dataDir, (items) =>
      items.some((m) => m.name === 'second' && m.live.replicas === 1),
    );
    expect(modules.map((m) => m.name).sort()).toEqual(['default', 'second']);
    const exited = new Promise((resolve) => handAdded.once('exit', resolve));
    handAdded.kill('SIGTERM');
    await exited;

    ctrlC(first);
    await expectCleanStop(first);

    const keyBefore = localKey(dataDir);
    const bundles = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'rpa-workflows');
    const bundle = path.join(
      bundles,
      (JSON.parse(readFileSync(path.join(bundles, 'manifest.json'), 'utf8')) as { bundle: string }).bundle,
    );
    const bundledAt = statSync(bundle).mtimeMs;
    const second = launch(dataDir);
    await second.printed('Ready.');
    expect(localKey(dataDir)).toEqual(keyBefore); // the same key again, not printed again
    expect(second.output()).not.toContain(keyBefore.authorization.slice('Bearer '.length));
    // The workflow bundle cached by the first start serves the second: neither the launcher nor the
    // control worker bundled again.
    expect(statSync(bundle).mtimeMs).toBe(bundledAt);
    expect(readFileSync(path.join(dataDir, 'logs', 'control-worker.log'), 'utf8')).not.toContain(
      'Workflow bundle created',
    );
    const again = await robots(dataDir);
    expect(again.items).toHaveLength(2);
    expect(again.items[1]?.robotId).toBe(list.items[0]?.robotId);
    const firstRobot = await fetch(`http://127.0.0.1:${ports.api}/v1/robots/${list.items[0]?.robotId}`, {
      headers: localKey(dataDir),
    });
    expect(((await firstRobot.json()) as { status: string }).status).toBe('completed');
    ctrlC(second);
    await expectCleanStop(second);
  }, 400_000);
});

describe('Ctrl-C during rpa start stops every process it started', () => {
  // One data directory for the three: each start must also survive the one interrupted before it.
  // An empty cache too, as on a new checkout: the first start creates the database (no template to
  // copy) and bundles the workflows in a child process, and is interrupted doing both.
  let dataDir: string;
  let cacheDir: string;
  beforeAll(() => {
    dataDir = newDataDir();
    cacheDir = newDataDir();
  });

  it('while Temporal, the database and the workflow bundle are starting (first start, empty data)', async () => {
    const launcher = launch(dataDir, cacheDir);
    await launcher.printed('✓ Temporal dev server');
    expect(launcher.output()).not.toContain('embedded PGlite');
    ctrlC(launcher);
    await expectCleanStop(launcher);
    // The half-made database is gone, not left to fail the next start.
    expect(existsSync(path.join(dataDir, 'pglite'))).toBe(false);
  }, 120_000);

  it('before the API is up', async () => {
    const launcher = launch(dataDir, cacheDir);
    await launcher.printed('local admin API key');
    expect(launcher.output()).not.toContain('✓ API');
    ctrlC(launcher);
    await expectCleanStop(launcher);
  }, 120_000);

  it('while the demo robot runs, the signal coming twice (terminal and npm)', async () => {
    const launcher = launch(dataDir, cacheDir);
    await launcher.printed('… demo robot');
    expect(launcher.output()).not.toContain('demo robot completed');
    ctrlC(launcher);
    // The second one while the first is being handled: sent at once, the kernel would merge them.
    await launcher.printed('stopping…');
    launcher.child.kill('SIGINT');
    await expectCleanStop(launcher);
  }, 180_000);
});
