import { existsSync, readFileSync, rmSync } from 'node:fs';
import { type DevServer, startTemporalDevServer } from '../../cli/temporal-dev-server';
import { ROOT } from './test-env';

// The test run's own Temporal dev server. Global setup starts it and hands the test files (other
// processes) its pid and log through this variable, as it hands them TEMPORAL_ADDRESS; each file
// then checks it is still running (test/support/temporal-alive.ts), so that a server that died
// mid-run fails the next test with its log instead of a connection timeout.
const SERVER_VARIABLE = 'TEST_TEMPORAL_DEV_SERVER';

export interface TestTemporal {
  pid: number;
  address: string;
  logFile: string;
}

/**
 * Starts the dev server on `port` for the run. A port already held (an orphan of an aborted run, a
 * second run with the same TEST_TEMPORAL_PORT) fails at once, naming the holder: startTemporalDevServer
 * refuses to use a server it did not start.
 */
export async function startTestTemporal(port: number, logFile: string): Promise<DevServer> {
  // This run's log only: the tail shown when the server dies must not be an earlier run's.
  rmSync(logFile, { force: true });
  const server = await startTemporalDevServer({ root: ROOT, port, logFile, namespace: 'default' });
  const pid = server.process.pid;
  if (pid === undefined) throw new Error('the Temporal dev server has no pid');
  const started: TestTemporal = { pid, address: server.address, logFile };
  process.env[SERVER_VARIABLE] = JSON.stringify(started);
  let stopping = false;
  server.process.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(
      `\n✗ the test run's Temporal dev server (pid ${pid}, ${server.address}) exited (${signal ?? `code ${code}`}): the tests from here on fail\n`,
    );
  });
  return {
    ...server,
    stop: () => {
      stopping = true;
      return server.stop();
    },
  };
}

/** The dev server global setup started, if it started one (not when TEMPORAL_ADDRESS answered). */
export function testTemporal(env: NodeJS.ProcessEnv = process.env): TestTemporal | undefined {
  const text = env[SERVER_VARIABLE];
  return text ? (JSON.parse(text) as TestTemporal) : undefined;
}

/** Running, and still the dev server: a pid reused by another process does not count. */
function running(pid: number): boolean {
  if (!existsSync('/proc/self')) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    // A zombie (exited, not yet reaped) has an empty command line.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('start-dev');
  } catch {
    return false;
  }
}

function logTail(file: string, lines = 20): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(empty)';
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}

/** Throws, with the end of its log, when the run's dev server has exited. */
export function assertTestTemporalAlive(server: TestTemporal | undefined = testTemporal()): void {
  if (!server || running(server.pid)) return;
  throw new Error(
    `the Temporal dev server that global setup started (pid ${server.pid}, ${server.address}) has exited; ` +
      `every test that needs Temporal fails from here on. The end of its log (${server.logFile}):\n` +
      logTail(server.logFile),
  );
}
