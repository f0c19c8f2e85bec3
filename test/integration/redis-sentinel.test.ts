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
let replica: ChildProcess;
let replicaPort: number;
let replicaDir: string;
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
      // Quick to call the master down, so the failover test stays short.
      'sentinel down-after-milliseconds rpa-master 1000',
      'sentinel failover-timeout rpa-master 5000',
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
        if (addr?.[1] !== String(masterPort)) return undefined;
        // It must know the replica before the master dies, or it has nobody to promote.
        const replicas = (await probe.call('SENTINEL', 'replicas', 'rpa-master')) as unknown[];
        return replicas.length > 0 ? true : undefined;
      } catch {
        return undefined;
      }
    }, 15_000);
  } finally {
    probe.disconnect();
  }
}

async function startReplica(masterPort: number): Promise<void> {
  replicaPort = await freePort();
  // A replica saves what it loads from its master: into a directory of the test's, not the checkout.
  replicaDir = await mkdtemp(path.join(tmpdir(), 'rpa-replica-'));
  replica = spawn(
    'redis-server',
    [
      '--dir',
      replicaDir,
      '--port',
      String(replicaPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--replicaof',
      '127.0.0.1',
      String(masterPort),
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis(replicaPort, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await eventually(async () => {
      try {
        if (probe.status !== 'ready') await probe.connect();
        return (await probe.info('replication')).includes('master_link_status:up') ? true : undefined;
      } catch {
        return undefined;
      }
    }, 15_000);
  } finally {
    probe.disconnect();
  }
}

async function killProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  master = new TestRedisServer(await freePort());
  await master.start();
  await startReplica(master.port);
  await startSentinel(master.port);
  system = await startTestSystem({
    env: { REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/rpa-master` },
  });
}, 60_000);

afterAll(async () => {
  await system?.close();
  await killProcess(sentinel);
  await killProcess(replica);
  await master?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (replicaDir) await rm(replicaDir, { recursive: true, force: true });
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

  it('follows a failover: the master dies, Sentinel promotes the replica, robots are cached there', async () => {
    await master.kill();
    const probe = new Redis(sentinelPort, '127.0.0.1');
    try {
      await eventually(
        async () => {
          const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', 'rpa-master')) as
            | string[]
            | null;
          return addr?.[1] === String(replicaPort) ? true : undefined;
        },
        30_000,
        250,
      );
    } finally {
      probe.disconnect();
    }
    const promoted = new Redis(replicaPort, '127.0.0.1');
    try {
      const created = await system.api
        .post('/v1/robots')
        .send({ type: 'demo', input: { text: 'after failover' } });
      expect(created.status).toBe(201);
      await system.temporal.workflow.getHandle(created.body.robotId).result();
      // The clients reconnected through Sentinel to the new master; the cache works again there.
      const read = await eventually(
        async () => {
          const res = await system.api.get(`/v1/robots/${created.body.robotId}`);
          return res.headers['x-robot-source'] === 'cache' ? res : undefined;
        },
        30_000,
        250,
      );
      expect(read.body.status).toBe('completed');
      expect((await promoted.keys('*')).some((key) => key.includes(created.body.robotId))).toBe(true);
    } finally {
      promoted.disconnect();
    }
  }, 90_000);
});
