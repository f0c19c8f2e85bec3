// Loaded into a bench's child processes (NODE_OPTIONS=--require; Node refuses --cpu-prof there)
// when BENCH_CPU_PROFILE_DIR is set: SIGWINCH starts the V8 CPU profiler, the next SIGWINCH stops
// it and writes <dir>/<pid>-<n>.cpuprofile (Chrome DevTools or speedscope open it). The bench
// signals around its timed runs (bench/cpu-profiles.ts), so start-up and warm-up stay out.
// SIGWINCH because the Temporal worker runtime stops on SIGUSR2, and a process without this file
// ignores SIGWINCH.
const { Session } = require('node:inspector');
const { renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  let session = null;
  let written = 0;
  process.on('SIGWINCH', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable');
      session.post('Profiler.start');
      return;
    }
    const current = session;
    session = null;
    current.post('Profiler.stop', (err, result) => {
      current.disconnect();
      if (err) return;
      written += 1;
      const file = path.join(dir, `${process.pid}-${written}.cpuprofile`);
      // Renamed into place: the bench takes the file once it appears, never half written.
      writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
      renameSync(`${file}.tmp`, file);
    });
  });
}
