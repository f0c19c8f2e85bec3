// CPU time of named processes over a stretch of a run, from /proc (Linux): utime + stime of
// /proc/<pid>/stat, which covers every thread of the process (Node's workers, the Temporal SDK's
// Rust core, the Go server's goroutines). With the machine's busy time from /proc/stat beside it, a
// run shows where its CPU went, and how much went to other work on the machine.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds a process has used so far; null when it is gone or /proc is not there. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime] = [Number(fields[11]), Number(fields[12])]; // fields 14 and 15 of stat
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine so far, all cores (everything but idle and iowait). */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const [idle, iowait] = [ticks[3] ?? 0, ticks[4] ?? 0];
    return (ticks.reduce((sum, value) => sum + value, 0) - idle - iowait) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuSpent {
  /** CPU seconds per process name over the stretch (a process gone meanwhile counts what it had). */
  processes: Record<string, number>;
  /** Busy seconds of the machine over the stretch, all cores: ours, the servers', everyone else's. */
  machine: number | null;
}

/** Starts counting for `pids` (name → pid); the returned function ends the stretch. */
export function startCpuCount(pids: Record<string, number | undefined>): () => CpuSpent {
  const from = Object.entries(pids).flatMap(([name, pid]) => {
    const seconds = pid === undefined ? null : processCpuSeconds(pid);
    return pid === undefined || seconds === null ? [] : [{ name, pid, seconds }];
  });
  const machineFrom = machineBusySeconds();
  return () => {
    const processes: Record<string, number> = {};
    for (const entry of from) {
      const now = processCpuSeconds(entry.pid) ?? entry.seconds;
      processes[entry.name] = Math.round((now - entry.seconds) * 100) / 100;
    }
    const machineTo = machineBusySeconds();
    const machine =
      machineFrom === null || machineTo === null ? null : Math.round((machineTo - machineFrom) * 100) / 100;
    return { processes, machine };
  };
}
