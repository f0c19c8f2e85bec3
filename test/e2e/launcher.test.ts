import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `rpa start` as a newcomer runs it: embedded PGlite, in-memory cache, its own Temporal dev server.
const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');
const ports = { api: 3077, temporal: 7277, ui: 8277, pglite: 5477 };
let dataDir: string;

function launcherEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
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
function loggedErrors(): string {
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

async function startUntilReady(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [rpa, 'start'], { env: launcherEnv() });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`launcher not ready in time:\n${output}`)), 150_000);
    const check = () => {
      if (output.includes('Ready.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`launcher exited with ${code}:\n${output}\nerrors logged:\n${loggedErrors()}`));
    });
  });
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  return exited;
}

/** The local admin key the launcher made on first start and keeps in launcher.json. */
function localKey(): { authorization: string } {
  const { apiKey } = JSON.parse(readFileSync(path.join(dataDir, 'launcher.json'), 'utf8')) as {
    apiKey: string;
  };
  return { authorization: `Bearer ${apiKey}` };
}

type RobotList = { items: { robotId: string; type: string; status: string }[] };

async function robots(path = '/v1/robots'): Promise<RobotList> {
  return (await (
    await fetch(`http://127.0.0.1:${ports.api}${path}`, { headers: localKey() })
  ).json()) as RobotList;
}

type ModuleList = { items: { name: string; live: { replicas: number } }[] };

async function eventuallyModules(
  done: (items: ModuleList['items']) => boolean,
): Promise<ModuleList['items']> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await (
      await fetch(`http://127.0.0.1:${ports.api}/v1/modules`, { headers: localKey() })
    ).json()) as ModuleList;
    if (done(body.items)) return body.items;
    if (Date.now() > deadline) throw new Error(`modules never matched: ${JSON.stringify(body.items)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function portClosed(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

beforeAll(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'rpa-launcher-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('rpa start', () => {
  it('brings the system up, completes the demo robot, stops cleanly, and keeps data for the next start', async () => {
    const first = await startUntilReady();
    expect(first.output()).toMatch(/demo robot completed in \d+ ms \(classified as "invoice"\)/);
    expect(first.output()).toContain(`http://127.0.0.1:${ports.ui}/namespaces/default/workflows/`);
    expect(first.output()).toContain(localKey().authorization.slice('Bearer '.length));
    const unauthenticated = await fetch(`http://127.0.0.1:${ports.api}/v1/robots`);
    expect(unauthenticated.status).toBe(401);

    const list = await robots();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ type: 'demo', status: 'completed' });
    const ui = await fetch(`http://127.0.0.1:${ports.ui}/`);
    expect(ui.status).toBe(200);
    // The dashboard's static files ship with the source tree that tsx runs (as in the Docker image).
    expect(first.output()).toContain(`dashboard: http://127.0.0.1:${ports.api}/dashboard/`);
    const dashboard = await fetch(`http://127.0.0.1:${ports.api}/dashboard/app.mjs`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get('content-type')).toMatch(/^text\/javascript/);

    // A module added by hand from another terminal joins the launcher's embedded database.
    const handAdded = spawn(process.execPath, [rpa, 'worker', '--module', 'second', '--capacity', '2'], {
      env: launcherEnv(),
    });
    const modules = await eventuallyModules((items) =>
      items.some((m) => m.name === 'second' && m.live.replicas === 1),
    );
    expect(modules.map((m) => m.name).sort()).toEqual(['default', 'second']);
    const exited = new Promise((resolve) => handAdded.once('exit', resolve));
    handAdded.kill('SIGTERM');
    await exited;

    expect(await stop(first.child)).toBe(0);
    expect(await portClosed(ports.api)).toBe(true);
    expect(await portClosed(ports.ui)).toBe(true);

    const keyBefore = localKey();
    const second = await startUntilReady();
    expect(localKey()).toEqual(keyBefore); // the same key again, not printed again
    expect(second.output()).not.toContain(keyBefore.authorization.slice('Bearer '.length));
    const again = await robots();
    expect(again.items).toHaveLength(2);
    expect(again.items[1]?.robotId).toBe(list.items[0]?.robotId);
    const firstRobot = await fetch(`http://127.0.0.1:${ports.api}/v1/robots/${list.items[0]?.robotId}`, {
      headers: localKey(),
    });
    expect(((await firstRobot.json()) as { status: string }).status).toBe('completed');
    expect(await stop(second.child)).toBe(0);
  }, 400_000);
});
