import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config';

// `rpa start` serves its embedded database to its children. A worker or API started by hand in
// another terminal (to add a module, say) must use that same database — never open the PGlite
// directory a second time — so the launcher leaves its addresses here while it runs.

interface LauncherState {
  pid: number;
  databaseUrl: string;
  temporalAddress: string;
}

const stateFile = (dataDir: string) => path.resolve(dataDir, 'launcher.json');

export function writeLauncherState(dataDir: string, state: Omit<LauncherState, 'pid'>): void {
  writeFileSync(stateFile(dataDir), JSON.stringify({ pid: process.pid, ...state }, null, 2));
}

export function clearLauncherState(dataDir: string): void {
  rmSync(stateFile(dataDir), { force: true });
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
  const file = stateFile(config.DATA_DIR);
  if (!existsSync(file)) return config;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LauncherState;
  if (!alive(state.pid)) return config;
  return {
    ...config,
    DATABASE_URL: state.databaseUrl,
    TEMPORAL_ADDRESS: state.temporalAddress,
    DATABASE_POOL_SIZE: 3,
  };
}
