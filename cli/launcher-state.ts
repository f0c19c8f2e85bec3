import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';

// `rpa start` serves its embedded database to its children. A worker or API started by hand in
// another terminal (to add a module, say) must use that same database — never open the PGlite
// directory a second time — so the launcher leaves its addresses here while it runs. The local
// admin API key stays in the file between runs, so `rpa robots …` finds it (mode 0600).

interface RunningState {
  pid: number;
  databaseUrl: string;
  temporalAddress: string;
}

interface LauncherState extends Partial<RunningState> {
  apiKey?: string;
  /** SECRETS_KEYS for embedded mode, made on first start when the environment sets none. */
  secretsKeys?: string;
}

const stateFile = (dataDir: string) => path.resolve(dataDir, 'launcher.json');

function readState(dataDir: string): LauncherState {
  const file = stateFile(dataDir);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LauncherState;
  } catch {
    return {};
  }
}

function writeState(dataDir: string, state: LauncherState): void {
  if (Object.keys(state).length === 0) {
    rmSync(stateFile(dataDir), { force: true });
    return;
  }
  writeFileSync(stateFile(dataDir), JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function writeLauncherState(dataDir: string, state: Omit<RunningState, 'pid'>): void {
  writeState(dataDir, { ...readState(dataDir), pid: process.pid, ...state });
}

/** Forgets the running processes; keeps the local API key and secrets key. */
export function clearLauncherState(dataDir: string): void {
  const { apiKey, secretsKeys } = readState(dataDir);
  writeState(dataDir, { ...(apiKey ? { apiKey } : {}), ...(secretsKeys ? { secretsKeys } : {}) });
}

/** The embedded-mode SECRETS_KEYS, made and kept on first use. */
export function launcherSecretsKeys(dataDir: string, make: () => string): string {
  const state = readState(dataDir);
  if (state.secretsKeys) return state.secretsKeys;
  const secretsKeys = make();
  writeState(dataDir, { ...state, secretsKeys });
  return secretsKeys;
}

export function launcherApiKey(dataDir: string): string | undefined {
  return readState(dataDir).apiKey;
}

export function saveLauncherApiKey(dataDir: string, apiKey: string): void {
  writeState(dataDir, { ...readState(dataDir), apiKey });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** With no DATABASE_URL, joins a running `rpa start` (its database and Temporal) if there is one. */
export function withRunningLauncher(config: Config): Config {
  if (config.DATABASE_URL) return config;
  const state = readState(config.DATA_DIR);
  if (!state.pid || !state.databaseUrl || !state.temporalAddress || !alive(state.pid)) return config;
  return {
    ...config,
    SECRETS_KEYS: config.SECRETS_KEYS ?? state.secretsKeys,
    DATABASE_URL: state.databaseUrl,
    TEMPORAL_ADDRESS: state.temporalAddress,
    DATABASE_POOL_SIZE: 3,
    DATABASE_NAMED_STATEMENTS: false,
  };
}
