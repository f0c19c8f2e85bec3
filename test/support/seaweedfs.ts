import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';

// A real S3-compatible server for one test file: SeaweedFS (`weed server -s3`, built by
// scripts/install-seaweedfs.sh) on loopback ports of its own, its data in a temporary directory
// that survives kill() and start(), so a test can take S3 down and bring the same data back.

const WEED = path.resolve(__dirname, '..', '..', '.tools', 'bin', 'weed');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

export class TestS3Server {
  private child: ChildProcess | null = null;
  private dir = '';
  private ports: Record<
    'master' | 'volume' | 'filer' | 's3' | 's3Grpc' | 'masterGrpc' | 'volumeGrpc' | 'filerGrpc',
    number
  > | null = null;
  readonly accessKeyId = 'rpa-test';
  readonly secretAccessKey = 'rpa-test-secret';

  get endpoint(): string {
    if (!this.ports) throw new Error('TestS3Server not started');
    return `http://127.0.0.1:${this.ports.s3}`;
  }

  /** Starts the server (again, on the same ports and data after kill()) and waits until S3 answers. */
  async start(): Promise<void> {
    if (!existsSync(WEED)) {
      throw new Error(
        `${WEED} is missing: run scripts/install-seaweedfs.sh (npm test runs it via ensure-deps)`,
      );
    }
    this.dir ||= await mkdtemp(path.join(tmpdir(), 'rpa-seaweedfs-'));
    this.ports ??= {
      master: await freePort(),
      volume: await freePort(),
      filer: await freePort(),
      s3: await freePort(),
      s3Grpc: await freePort(),
      masterGrpc: await freePort(),
      volumeGrpc: await freePort(),
      filerGrpc: await freePort(),
    };
    const p = this.ports;
    this.child = spawn(
      WEED,
      [
        'server',
        `-dir=${this.dir}`,
        '-ip=127.0.0.1',
        '-ip.bind=127.0.0.1',
        `-master.port=${p.master}`,
        `-master.port.grpc=${p.masterGrpc}`,
        `-volume.port=${p.volume}`,
        `-volume.port.grpc=${p.volumeGrpc}`,
        `-filer.port=${p.filer}`,
        `-filer.port.grpc=${p.filerGrpc}`,
        '-master.volumeSizeLimitMB=64',
        '-volume.max=8',
        '-s3',
        `-s3.port=${p.s3}`,
        `-s3.port.grpc=${p.s3Grpc}`,
      ],
      { stdio: 'ignore' },
    );
    const client = this.client();
    const deadline = Date.now() + 90_000;
    try {
      for (;;) {
        try {
          await client.send(new ListBucketsCommand({}));
          return;
        } catch (err) {
          if (this.child?.exitCode !== null)
            throw new Error(`weed exited (${this.child?.exitCode}) before S3 answered`);
          if (Date.now() > deadline)
            throw new Error(`SeaweedFS S3 did not answer on ${this.endpoint}: ${err}`);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      client.destroy();
    }
  }

  /** A client for assertions and setup, with the test's keys. */
  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey },
      maxAttempts: 1,
    });
  }

  async createBucket(name: string): Promise<void> {
    const client = this.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      client.destroy();
    }
  }

  /** SIGKILL: an outage, not a shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  async remove(): Promise<void> {
    await this.kill();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
