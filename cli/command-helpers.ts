import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { loadConfigOrExit } from '../core/config';
import { ApiClient, ApiError } from './api-client';
import { launcherApiKey } from './launcher-state';

// What every command that talks to the API shares: how it finds the API, prints, and exits.

/** Exit codes scripts can trust: 0 done, 1 the robot failed or was cancelled, 2 bad usage, 3 API/network error. */
export const EXIT = { ok: 0, robotFailed: 1, usage: 2, api: 3 } as const;

/** A mistake of the caller (a bad file, a bad value): exit code 2. */
export class UsageError extends Error {}

/**
 * A JSON or YAML file (by its extension; `-` is stdin) that must hold an object; `what` names it
 * in the usage error, like "a schedule (an object)".
 */
export function readObjectFile(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const yaml = /\.ya?ml$/i.test(file);
  let parsed: unknown;
  try {
    parsed = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid ${yaml ? 'YAML' : 'JSON'}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${file} must hold ${what}`);
  }
  return parsed as Record<string, unknown>;
}

/** The --api and --api-key options of a command group. */
export type ApiOptions = { api?: string; apiKey?: string };

/** URL: --api, RPA_API_URL, else local; key: --api-key, RPA_API_KEY, else the launcher's local key. */
export function apiClient(options: ApiOptions): ApiClient {
  const config = loadConfigOrExit();
  return new ApiClient(
    options.api ?? config.RPA_API_URL ?? `http://127.0.0.1:${config.PORT}`,
    options.apiKey ?? config.RPA_API_KEY ?? launcherApiKey(config.DATA_DIR),
  );
}

/** Results go to stdout as JSON; messages for people go to stderr. */
export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs a command's action and turns its outcome, or its error, into the exit code. */
export async function guarded(action: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (err) {
    if (err instanceof ApiError) {
      process.stderr.write(`API error ${err.message}\n`);
      if (Array.isArray(err.problem.errors)) print(err.problem.errors);
      process.exitCode = err.status >= 500 ? EXIT.api : EXIT.usage;
      return;
    }
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? EXIT.usage : EXIT.api;
  }
}
