import { setTimeout as sleep } from 'node:timers/promises';
import { ctrlC, type Launcher, launcherHarness, localKey, processesOf } from '../support/launcher-harness';

// `rpa start` supervises the API and the workers: one that dies is restarted with backoff while the
// rest keep running; one that keeps dying makes the launcher give up. Its own ports, so that it can
// run beside launcher.test.ts.
const ports = { api: 3078, temporal: 7278, ui: 8278, pglite: 5478 };
const { newDataDir, launch, expectCleanStop, expectNothingLeft, killLeftovers, removeDataDirs } =
  launcherHarness(ports);
const api = `http://127.0.0.1:${ports.api}`;

const DEMO_INPUT = { text: 'Invoice INV-7 from Acme GmbH. Total amount due: 100.00 EUR.' };

afterEach(killLeftovers);
afterAll(removeDataDirs);

/**
 * The pid of the launcher's control worker, waiting for one other than `not` to appear; null once
 * `launcher` has exited.
 */
async function controlWorkerPid(
  launcher: Launcher,
  not: Set<number>,
  timeoutMs = 60_000,
): Promise<number | null> {
  const { dataDir } = launcher;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (launcher.child.exitCode !== null || launcher.child.signalCode !== null) return null;
    const pids = processesOf(dataDir)
      .filter((line) => line.includes('worker --control'))
      .map((line) => Number(line.split(':')[0]))
      .filter((pid) => !not.has(pid));
    if (pids[0] !== undefined) return pids[0];
    if (Date.now() > deadline) throw new Error(`no new control worker: ${processesOf(dataDir).join('\n')}`);
    await sleep(50);
  }
}

async function createRobot(dataDir: string): Promise<string> {
  const response = await fetch(`${api}/v1/robots`, {
    method: 'POST',
    headers: { ...localKey(dataDir), 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'demo', input: DEMO_INPUT }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { robotId: string }).robotId;
}

async function statuses(dataDir: string, ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map(async (id) => {
      const response = await fetch(`${api}/v1/robots/${id}`, { headers: localKey(dataDir) });
      return ((await response.json()) as { status: string }).status;
    }),
  );
}

/** Polls /health/live until `until` settles; every answer must be a 200. */
async function apiAnswersThroughout(until: Promise<unknown>): Promise<number> {
  let settled = false;
  void until.finally(() => {
    settled = true;
  });
  let answers = 0;
  while (!settled) {
    const response = await fetch(`${api}/health/live`);
    expect(response.status).toBe(200);
    answers += 1;
    await sleep(200);
  }
  return answers;
}

describe('rpa start supervises the API and the workers', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = newDataDir();
  });

  it('restarts a control worker killed with SIGKILL while robots are in flight; the API stays up, every robot completes', async () => {
    const launcher = launch(dataDir, { args: ['--no-demo'] });
    await launcher.printed('Ready.');
    const first = await controlWorkerPid(launcher, new Set());
    if (first === null) throw new Error(`launcher gone:\n${launcher.output()}`);
    const ids = await Promise.all(Array.from({ length: 10 }, () => createRobot(dataDir)));

    process.kill(first, 'SIGKILL');
    // In flight when the worker died: not all of them finished before.
    expect((await statuses(dataDir, ids)).filter((status) => status !== 'completed').length).toBeGreaterThan(
      0,
    );
    const back = launcher.printed('✓ control worker restarted', 90_000);
    const answers = await apiAnswersThroughout(back);
    await back;
    expect(answers).toBeGreaterThan(0);
    expect(launcher.output()).toContain(
      '! control worker exited (signal SIGKILL); restarting in 1s (restart 1 of 5 in 60s)',
    );
    expect(launcher.output()).not.toContain('stopping…');
    const second = await controlWorkerPid(launcher, new Set([first]));
    expect(second).not.toBe(first);

    const deadline = Date.now() + 120_000;
    let now = await statuses(dataDir, ids);
    while (now.some((status) => status !== 'completed') && Date.now() < deadline) {
      await sleep(500);
      now = await statuses(dataDir, ids);
    }
    expect(now).toEqual(ids.map(() => 'completed'));
    expect(launcher.child.exitCode).toBeNull();

    ctrlC(launcher);
    await expectCleanStop(launcher);
  }, 300_000);

  it('gives up, stops everything and exits 1 when a child keeps crashing', async () => {
    const launcher: Launcher = launch(dataDir, { args: ['--no-demo'] });
    await launcher.printed('Ready.');
    // Each control worker killed as soon as it appears: the crash loop of a worker that cannot start.
    const killed = new Set<number>();
    for (;;) {
      const pid = await controlWorkerPid(launcher, killed, 90_000);
      if (pid === null) break;
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const { code } = await launcher.exited;
    const output = launcher.output();
    expect({ code, output }).toEqual({ code: 1, output });
    for (const [restart, delay] of [
      [1, 1],
      [2, 2],
      [3, 4],
      [4, 8],
      [5, 16],
    ]) {
      expect(output).toContain(`restarting in ${delay}s (restart ${restart} of 5 in 60s)`);
    }
    expect(output).toContain('✗ control worker exited 6 times in 60s; giving up');
    expect(output).toMatch(/stopping…\nstopped\n$/);
    expect(killed.size).toBe(6);
    await expectNothingLeft(launcher);
  }, 300_000);

  it('Ctrl-C while a restart is pending cancels it and stops cleanly', async () => {
    const launcher = launch(dataDir, { args: ['--no-demo'] });
    await launcher.printed('Ready.');
    const pid = await controlWorkerPid(launcher, new Set());
    if (pid === null) throw new Error(`launcher gone:\n${launcher.output()}`);
    process.kill(pid, 'SIGKILL');
    await launcher.printed('restarting in 1s', 10_000);
    ctrlC(launcher);
    await expectCleanStop(launcher);
    expect(launcher.output()).not.toContain('control worker restarted');
  }, 120_000);
});
