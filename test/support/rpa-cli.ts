import { spawn } from 'node:child_process';
import path from 'node:path';
import type { TestSystem } from './test-system';

export const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to (and overriding) the environment the CLI gets. */
  env?: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed (`--input -`). */
  stdin?: string;
  /** The directory to run it from (paths the CLI resolves, like `modules init`'s default). */
  cwd?: string;
}

/** Runs the real `rpa` CLI as its own process against a test system's API, with its admin key. */
export function runRpa(system: TestSystem, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [rpa, ...args], {
    ...options,
    env: { RPA_API_URL: system.url, RPA_API_KEY: system.adminKey, ...options.env },
  });
}

/** Runs a command to its end with this process's environment plus `options.env`; never rejects. */
export function runProcess(command: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', (err) => resolve({ code: null, stdout, stderr: stderr + String(err) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading stdin closes it first: EPIPE is not the command's outcome.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}
