import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { parseConfig } from '../../core/config';
import { TestRedisServer } from '../support/redis-server';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';

// REDIS_URL=redis+sentinel://… (ADR 0057): every client asks a real redis-server --sentinel for the
// master. The master here is a redis-server of its own, so what lands in it came through Sentinel.

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

let master: TestRedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
let dir: string;
let system: TestSystem;

async function startSentinel(masterPort: number): Promise<void> {
  sentinelPort = await freePort();
  dir = await mkdtemp(path.join(tmpdir(), 'rpa-sentinel-'));
  // Sentinel rewrites its config file, so it must be its own writable file.
  const file = path.join(dir, 'sentinel.conf');
  await writeFile(
    file,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor rpa-master 127.0.0.1 ${masterPort} 1`,
      'sentinel down-after-milliseconds rpa-master 5000',
      '',
    ].join('\n'),
  );
  sentinel = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis(sentinelPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await eventually(async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'rpa-master')) as
          | string[]
          | null;
        return addr?.[1] === String(masterPort) ? true : undefined;
      } catch {
        return undefined;
      }
    }, 15_000);
  } finally {
    probe.disconnect();
  }
}

beforeAll(async () => {
  master = new TestRedisServer(await freePort());
  await master.start();
  await startSentinel(master.port);
  system = await startTestSystem({
    env: { REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/rpa-master` },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
  if (sentinel && sentinel.exitCode === null) {
    const exited = new Promise((resolve) => sentinel.once('exit', resolve));
    sentinel.kill('SIGKILL');
    await exited;
  }
  await master?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('REDIS_URL naming a Sentinel deployment', () => {
  it('parses host lists, master name, db and password, and refuses a malformed one', () => {
    const config = parseConfig({ REDIS_URL: 'redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/2' });
    expect(config.REDIS_URL).toBe('redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/mymaster/2');
    expect(() => parseConfig({ REDIS_URL: 'redis+sentinel://10.0.0.1:26379' })).toThrow(/REDIS_URL/);
    expect(() => parseConfig({ REDIS_URL: 'redis+sentinel://10.0.0.1:99999/m' })).toThrow(/REDIS_URL/);
  });

  it('runs a robot, caching its status in the master that Sentinel names', async () => {
    const masterClient = new Redis(master.port, '127.0.0.1');
    try {
      const created = await system.api
        .post('/v1/robots')
        .send({ type: 'demo', input: { text: 'via sentinel' } });
      expect(created.status).toBe(201);
      await system.temporal.workflow.getHandle(created.body.robotId).result();

      // The status cache wrote through the Sentinel-resolved connection: the read is a cache hit…
      const read = await eventually(async () => {
        const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
        return res.headers['x-robot-source'] === 'cache' ? res : undefined;
      }, 15_000);
      expect(read.body.status).toBe('completed');
      // …and the master holds the routing state and the cached robot.
      const keys = await masterClient.keys('*');
      expect(keys.some((key) => key.startsWith(system.config.REDIS_KEY_PREFIX))).toBe(true);
      expect(keys.some((key) => key.includes(created.body.robotId))).toBe(true);
    } finally {
      masterClient.disconnect();
    }
  }, 60_000);
});
