import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `rpa start` as a newcomer runs it: embedded PGlite, in-memory cache, its own Temporal dev server.
// Each test file that launches it picks its own ports, so two such files can run side by side.

const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');

export interface LauncherPorts {
  api: number;
  temporal: number;
  ui: number;
  pglite: number;
}

export interface Launcher {
  child: ChildProcess;
  dataDir: string;
  output(): string;
  /** Resolves once the output holds `text`; rejects if the launcher exits first or it takes too long. */
  printed(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Processes whose environment names this data directory: the launcher's children and theirs. */
export function processesOf(dataDir: string): string[] {
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

export function listening(port: number): Promise<boolean> {
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

/** The local admin key the launcher made on first start and keeps in launcher.json. */
export function localKey(dataDir: string): { authorization: string } {
  const { apiKey } = JSON.parse(readFileSync(path.join(dataDir, 'launcher.json'), 'utf8')) as {
    apiKey: string;
  };
  return { authorization: `Bearer ${apiKey}` };
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
export function ctrlC(launcher: Launcher): void {
  if (launcher.child.pid) process.kill(-launcher.child.pid, 'SIGINT');
}

export function launcherHarness(ports: LauncherPorts) {
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

  /**
   * Starts `rpa start` the way a terminal runs a command: as the leader of its own process group, the
   * group a Ctrl-C is sent to.
   */
  function launch(
    dataDir: string,
    options: { cacheDir?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {},
  ): Launcher {
    const child = spawn(process.execPath, [rpa, 'start', ...(options.args ?? [])], {
      env: { ...launcherEnv(dataDir, options.cacheDir), ...options.env },
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

  /** No process left of this launcher, and every port it used free. */
  async function expectNothingLeft(launcher: Launcher): Promise<void> {
    expect(processesOf(launcher.dataDir)).toEqual([]);
    const open = await Promise.all(Object.values(ports).map((port) => listening(port)));
    expect(Object.fromEntries(Object.keys(ports).map((name, i) => [name, open[i]]))).toEqual({
      api: false,
      temporal: false,
      ui: false,
      pglite: false,
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
    await expectNothingLeft(launcher);
  }

  /** A failed test must not leave a launcher holding the ports for the next one. */
  function killLeftovers(): void {
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
  }

  function removeDataDirs(): void {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }

  return {
    rpa,
    newDataDir,
    launcherEnv,
    launch,
    expectNothingLeft,
    expectCleanStop,
    killLeftovers,
    removeDataDirs,
  };
}
