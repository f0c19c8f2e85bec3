import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMessage, sendGoAhead } from './launcher-link';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stopChild asked it to stop; false for a crash. */
  stopped: boolean;
}

export interface ManagedChild {
  name: string;
  process: ChildProcess;
  logFile: string;
  /** Resolves when the child reports that it serves; rejects if it exits before. */
  ready: Promise<void>;
  /** Resolves once the child has exited and its log is flushed. */
  exited: Promise<ChildExit>;
  stopRequested: boolean;
}

/** A child that exited before it reported ready; the message carries the end of its log. */
export class ChildExitedError extends Error {
  constructor(
    readonly child: string,
    code: number | null,
    signal: NodeJS.Signals | null,
    logFile: string,
  ) {
    super(
      `${child} exited during start-up (${signal ?? `code ${code}`}); last lines of ${logFile}:\n${tailOf(logFile)}`,
    );
  }
}

const RPA_BIN = path.join(__dirname, '..', 'bin', 'rpa');

/**
 * Starts `rpa <args>` as a child with its output in a log file, in its own process group (a Ctrl-C
 * in the terminal reaches only the parent, which stops its children in order) and with an IPC
 * channel (cli/launcher-link.ts): once the child has loaded its code it waits for `goAhead` before
 * it connects anywhere (none given: at once), it reports ready over the channel, and it notices
 * through it that the parent is gone.
 */
export function spawnRpa(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logDir: string,
  goAhead: Promise<unknown> = Promise.resolve(),
): ManagedChild {
  mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [RPA_BIN, ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  // 'close' comes after the output pipes drained: the log is complete before anyone reads its tail.
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('close', (code, signal) =>
      log.end(() => resolve({ code, signal, stopped: managed.stopRequested })),
    );
  });
  // A go-ahead that never comes (start-up failed) leaves the child waiting until it is stopped.
  const go = goAhead.then(
    () => true,
    () => false,
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message) => {
      if (isMessage(message, 'loaded')) void go.then((ok) => ok && sendGoAhead(child));
      if (isMessage(message, 'ready')) resolve();
    });
    void exited.then(({ code, signal }) => reject(new ChildExitedError(name, code, signal, logFile)));
  });
  const managed: ManagedChild = { name, process: child, logFile, ready, exited, stopRequested: false };
  // Whoever waits for it handles a rejection; one nobody waits for is no crash.
  managed.ready.catch(() => undefined);
  return managed;
}

export function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the child is gone and its log flushed. */
export async function stopChild(child: ManagedChild, graceMs = 10_000): Promise<void> {
  const proc = child.process;
  if (proc.exitCode === null && proc.signalCode === null) {
    child.stopRequested = true;
    proc.kill('SIGTERM');
  }
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}
