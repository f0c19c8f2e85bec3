// V8 CPU profiles of a bench's Node processes over its timed runs, when BENCH_CPU_PROFILE_DIR is
// set: the children load bench/cpu-profile-preload.js (through NODE_OPTIONS) and so does the bench
// process; a SIGWINCH starts each one's profiler and the next stops it and writes the profile,
// which is then named after the run and the process.
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';

export const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR
  ? path.resolve(process.env.BENCH_CPU_PROFILE_DIR)
  : null;
const PRELOAD = path.join(__dirname, 'cpu-profile-preload.js');

/** What the children's environment needs for profiles (nothing when profiles are off). */
export function cpuProfileEnv(): Record<string, string> {
  if (!CPU_PROFILE_DIR) return {};
  mkdirSync(CPU_PROFILE_DIR, { recursive: true });
  require(PRELOAD); // this process too
  return { NODE_OPTIONS: `--require ${PRELOAD}`, BENCH_CPU_PROFILE_DIR: CPU_PROFILE_DIR };
}

/**
 * Starts the profilers of `pids` (name → pid); the returned function stops them and names each
 * profile `<label>-<name>.cpuprofile`, returning those it found within 30 s. A no-op when off.
 */
export function startCpuProfiles(pids: Record<string, number | undefined>, label: string) {
  const dir = CPU_PROFILE_DIR;
  const targets = Object.entries(pids).filter((entry): entry is [string, number] => entry[1] !== undefined);
  if (!dir) return async () => [] as string[];
  const before = new Set(readdirSync(dir));
  for (const [, pid] of targets) process.kill(pid, 'SIGWINCH');
  return async () => {
    for (const [, pid] of targets) process.kill(pid, 'SIGWINCH');
    const named: string[] = [];
    const deadline = Date.now() + 30_000;
    for (const [name, pid] of targets) {
      let file: string | undefined;
      while (!file && Date.now() < deadline) {
        file = readdirSync(dir).find(
          (f) => f.startsWith(`${pid}-`) && f.endsWith('.cpuprofile') && !before.has(f),
        );
        if (!file) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (!file) continue;
      const target = path.join(dir, `${label}-${name}.cpuprofile`);
      if (existsSync(path.join(dir, file))) renameSync(path.join(dir, file), target);
      named.push(target);
    }
    return named;
  };
}
