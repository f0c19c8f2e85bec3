import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  DEV_SERVER_SQLITE_PRAGMAS,
  type DevServer,
  startTemporalDevServer,
} from '../../cli/temporal-dev-server';
import { ROOT, TEST_DATA_DIR } from '../support/test-env';

// The launcher's dev server on a file (`npm start`): WAL with synchronous FULL (ADR 0043).

let dir: string;
let server: DevServer | undefined;

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(TEST_DATA_DIR, 'sqlite-'));
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('runs the dev server on a WAL file with synchronous FULL', async () => {
  const dbFile = path.join(dir, 'temporal.db');
  server = await startTemporalDevServer({
    root: ROOT,
    port: await freePort(),
    dbFile,
    logFile: path.join(dir, 'temporal.log'),
    namespace: 'default',
  });
  expect(DEV_SERVER_SQLITE_PRAGMAS).toEqual(['journal_mode=wal', 'synchronous=full']);
  // Bytes 18 and 19 of a SQLite file (write and read format versions) are 2 in WAL mode, 1 otherwise.
  const header = Buffer.alloc(20);
  const fd = openSync(dbFile, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  expect(header.subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
  expect([header[18], header[19]]).toEqual([2, 2]);
  // synchronous is per connection, not in the file: the server must have been given it.
  const args = readFileSync(`/proc/${server.process.pid}/cmdline`, 'utf8').split('\0');
  const pragmas = args.flatMap((arg, i) => (args[i - 1] === '--sqlite-pragma' ? [arg] : []));
  expect(pragmas).toEqual(['journal_mode=wal', 'synchronous=full']);
});
