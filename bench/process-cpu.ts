// CPU time of named processes over a stretch of a run, from /proc (Linux): utime + stime of
// /proc/<pid>/stat, which covers every thread of the process (Node's workers, the Temporal SDK's
// Rust core, the Go server's goroutines). With the machine's busy time from /proc/stat beside it, a
// run shows where its CPU went, and how much went to other work on the machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Name and CPU seconds so far from a /proc stat file; null when it is gone. */
function readStat(file: string): { name: string; seconds: number } | null {
  try {
    const stat = readFileSync(file, 'utf8');
    // The command name (2nd field) may hold spaces: count fields after its closing parenthesis.
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime] = [Number(fields[11]), Number(fields[12])]; // fields 14 and 15 of stat
    return Number.isFinite(utime) && Number.isFinite(stime)
      ? { name, seconds: (utime + stime) / TICKS_PER_SECOND }
      : null;
  } catch {
    return null;
  }
}

/** CPU seconds a process has used so far; null when it is gone or /proc is not there. */
export function processCpuSeconds(pid: number): number | null {
  return readStat(`/proc/${pid}/stat`)?.seconds ?? null;
}

/**
 * CPU seconds so far of a process's threads, summed by thread name (Node's main thread is `node`
 * or the process title, its workflow threads `WorkerThread`, libuv's `libuv-worker`, the Temporal
 * SDK core's `tokio-runtime-w`): which part of a process is busy. Threads gone meanwhile are lost.
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    const stat = readStat(`/proc/${pid}/task/${tid}/stat`);
    if (stat) byName[stat.name] = (byName[stat.name] ?? 0) + stat.seconds;
  }
  return byName;
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
  /** The same per process, by thread name (threadCpuSeconds). */
  threads: Record<string, Record<string, number>>;
  /** Busy seconds of the machine over the stretch, all cores: ours, the servers', everyone else's. */
  machine: number | null;
}

/** Starts counting for `pids` (name → pid); the returned function ends the stretch. */
export function startCpuCount(pids: Record<string, number | undefined>): () => CpuSpent {
  const from = Object.entries(pids).flatMap(([name, pid]) => {
    const seconds = pid === undefined ? null : processCpuSeconds(pid);
    return pid === undefined || seconds === null
      ? []
      : [{ name, pid, seconds, threads: threadCpuSeconds(pid) }];
  });
  const machineFrom = machineBusySeconds();
  return () => {
    const processes: Record<string, number> = {};
    const threads: Record<string, Record<string, number>> = {};
    for (const entry of from) {
      const now = processCpuSeconds(entry.pid) ?? entry.seconds;
      processes[entry.name] = round(now - entry.seconds);
      const byName: Record<string, number> = {};
      for (const [thread, seconds] of Object.entries(threadCpuSeconds(entry.pid))) {
        const spent = round(seconds - (entry.threads[thread] ?? 0));
        if (spent > 0) byName[thread] = spent;
      }
      threads[entry.name] = byName;
    }
    const machineTo = machineBusySeconds();
    const machine = machineFrom === null || machineTo === null ? null : round(machineTo - machineFrom);
    return { processes, threads, machine };
  };
}

const round = (seconds: number) => Math.round(seconds * 100) / 100;
