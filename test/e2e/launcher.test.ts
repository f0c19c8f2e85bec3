import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ctrlC, launcherHarness, localKey } from '../support/launcher-harness';

const ports = { api: 3077, temporal: 7277, ui: 8277, pglite: 5477 };
const { rpa, newDataDir, launcherEnv, launch, expectCleanStop, killLeftovers, removeDataDirs } =
  launcherHarness(ports);

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

afterEach(killLeftovers);

afterAll(removeDataDirs);

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
    const launcher = launch(dataDir, { cacheDir });
    await launcher.printed('✓ Temporal dev server');
    expect(launcher.output()).not.toContain('embedded PGlite');
    ctrlC(launcher);
    await expectCleanStop(launcher);
    // The half-made database is gone, not left to fail the next start.
    expect(existsSync(path.join(dataDir, 'pglite'))).toBe(false);
  }, 120_000);

  it('before the API is up', async () => {
    const launcher = launch(dataDir, { cacheDir });
    await launcher.printed('local admin API key');
    expect(launcher.output()).not.toContain('✓ API');
    ctrlC(launcher);
    await expectCleanStop(launcher);
  }, 120_000);

  it('while the demo robot runs, the signal coming twice (terminal and npm)', async () => {
    const launcher = launch(dataDir, { cacheDir });
    await launcher.printed('… demo robot');
    expect(launcher.output()).not.toContain('demo robot completed');
    ctrlC(launcher);
    // The second one while the first is being handled: sent at once, the kernel would merge them.
    await launcher.printed('stopping…');
    launcher.child.kill('SIGINT');
    await expectCleanStop(launcher);
  }, 180_000);
});
