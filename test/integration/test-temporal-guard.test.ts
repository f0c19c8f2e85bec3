import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevServer } from '../../cli/temporal-dev-server';
import { listening } from '../support/launcher-harness';
import { assertTestTemporalAlive, startTestTemporal, testTemporal } from '../support/test-temporal';

// Global setup's Temporal dev server (test/support/test-temporal.ts): it never adopts a server it did
// not start (an orphan of an aborted run answered the readiness check and died mid-run, taking CI
// with it), and a server of its own that exits fails the next test with its log. Port 7307: not the
// run's own (TEST_TEMPORAL_PORT).

const PORT = 7307;
const dir = mkdtempSync(path.join(tmpdir(), 'rpa-test-temporal-'));
const logFile = path.join(dir, 'temporal.log');
const servers: DevServer[] = [];
let holder: Server | undefined;

// startTestTemporal hands its server to the test files through the environment; this file's
// own servers must not replace the run's.
const runServer = process.env.TEST_TEMPORAL_DEV_SERVER;

afterEach(async () => {
  process.env.TEST_TEMPORAL_DEV_SERVER = runServer;
  if (runServer === undefined) delete process.env.TEST_TEMPORAL_DEV_SERVER;
  await new Promise((resolve) => (holder ? holder.close(resolve) : resolve(undefined)));
  holder = undefined;
  for (const server of servers.splice(0)) await server.stop();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function holdPort(port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => socket.destroy());
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function startError(port: number): Promise<Error> {
  const started = await startTestTemporal(port, logFile).then(
    (server) => {
      servers.push(server);
      return undefined;
    },
    (err: unknown) => err as Error,
  );
  if (!started) throw new Error(`the dev server started on port ${port}, which was held`);
  return started;
}

describe("global setup's Temporal dev server", () => {
  it('fails at once when a plain TCP listener holds its port, naming the port, the holder and the commands', async () => {
    holder = await holdPort(PORT);
    const began = Date.now();
    const error = await startError(PORT);
    expect(Date.now() - began).toBeLessThan(2000);
    expect(error.name).toBe('PortInUseError');
    expect(error.message).toContain(
      `port ${PORT} (the Temporal dev server's frontend) is already in use by pid ${process.pid}: `,
    );
    expect(error.message).toContain('is not used in its place');
    expect(error.message).toContain(`ss -ltnp 'sport = :${PORT}'`);
    expect(error.message).toContain(`fuser ${PORT}/tcp`);
    expect(process.env.TEST_TEMPORAL_DEV_SERVER).toBe(runServer);
  });

  it('refuses a dev server it did not start (an orphan) instead of using it, naming its command line', async () => {
    const orphan = await startTestTemporal(PORT, logFile);
    servers.push(orphan);
    const error = await startError(PORT);
    expect(error.message).toMatch(
      new RegExp(
        `already in use by pid ${orphan.process.pid}: \\S*temporal server start-dev .*--port ${PORT}`,
      ),
    );
    // The refusal left the orphan alone: this run chose not to kill what it did not start.
    expect(await listening(PORT)).toBe(true);
  });

  it('fails the next test once its own server has exited, with the end of its log', async () => {
    const server = await startTestTemporal(PORT, logFile);
    servers.push(server);
    const started = testTemporal();
    expect(started).toEqual({ pid: server.process.pid, address: `127.0.0.1:${PORT}`, logFile });
    expect(() => assertTestTemporalAlive(started)).not.toThrow();

    const exited = new Promise((resolve) => server.process.once('exit', resolve));
    server.process.kill('SIGKILL');
    await exited;
    expect(() => assertTestTemporalAlive(started)).toThrow(
      new RegExp(
        `the Temporal dev server that global setup started \\(pid ${server.process.pid}, 127\\.0\\.0\\.1:${PORT}\\) has exited; ` +
          `every test that needs Temporal fails from here on\\. The end of its log \\(${logFile}\\):\\n`,
      ),
    );
  });
});
