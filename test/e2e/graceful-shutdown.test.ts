import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import type { RobotView } from '../../core/domain/robot';
import { freePort } from '../chaos/support/free-port';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

// SIGTERM on real processes (issue 19, graceful shutdown): a module worker lets its running step
// finish after leaving routing; the API answers readiness 503 at once, ends event streams with a
// retry hint, and finishes a request that was half-sent when the signal came.

const rpa = path.join(__dirname, '..', '..', 'bin', 'rpa');
let system: TestSystem;
const workers: WorkerProcess[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  system = await startTestSystem({ module: false, env: { STEP_HEARTBEAT_TIMEOUT_SECONDS: '3' } });
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.kill()));
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await system?.close();
});

function exited(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve({ code: child.exitCode, at: Date.now() });
    else child.once('exit', (code) => resolve({ code, at: Date.now() }));
  });
}

async function liveReplicas(name: string): Promise<number> {
  const res = await system.api.get(`/v1/modules/${name}`);
  return res.status === 200 ? (res.body.live as { replicas: number }).replicas : 0;
}

async function inFlight(name: string): Promise<number> {
  const res = await system.api.get(`/v1/modules/${name}`);
  return res.status === 200 ? (res.body.live as { inFlight: number }).inFlight : 0;
}

describe('a module worker stopped by SIGTERM mid-step', () => {
  it('leaves routing at once, finishes the running step, exits 0; the robot loses nothing', async () => {
    const first = spawnModuleWorker(system.config, 'gs-module', 2, { WORKER_SHUTDOWN_GRACE_SECONDS: '30' });
    workers.push(first);
    await eventually(async () => ((await liveReplicas('gs-module')) === 1 ? true : undefined), 30_000);

    const created = await system.api
      .post('/v1/robots')
      .send({ type: 'noop-pipeline', input: { holdMs: 4000 } });
    expect(created.status).toBe(201);
    const robotId: string = created.body.robotId;
    await eventually(async () => ((await inFlight('gs-module')) === 1 ? true : undefined), 20_000);

    const signalledAt = Date.now();
    first.process.kill('SIGTERM');
    const exit = exited(first.process);
    // Routing stops sending steps here before the step ends (the replica is gone from the catalog).
    await eventually(async () => ((await liveReplicas('gs-module')) === 0 ? true : undefined), 3000, 50);
    expect(first.process.exitCode).toBeNull();

    const { code, at } = await exit;
    expect(code).toBe(0);
    // It waited for its step (held 4 s, about half of it left at the signal) instead of cutting it.
    expect(at - signalledAt).toBeGreaterThan(1000);
    // Its step completed there: recorded by the control worker soon after, with no module left
    // running (a cut step would wait for a new replica instead).
    await eventually(async () => {
      const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
      return robot.progress?.steps[0]?.status === 'completed' ? true : undefined;
    }, 15_000);
    expect(first.output()).toContain('replica deregistered first');

    // A new replica picks up the rest; nothing ran twice and nothing failed over.
    const second = spawnModuleWorker(system.config, 'gs-module', 2);
    workers.push(second);
    await system.temporal.workflow.getHandle(robotId).result();
    const robot = (await system.api.get(`/v1/robots/${robotId}`)).body as RobotView;
    expect(robot.status).toBe('completed');
    expect(robot.retryCount).toBe(0);
    expect(robot.output).toMatchObject({ first: { attempt: 1 } });
    expect(robot.routing.map((decision) => decision.cause)).not.toContain('failover');
    expect(robot.progress?.steps.map((step) => step.status)).toEqual(['completed', 'completed', 'completed']);

    // An idle replica stops at once.
    const idleExit = exited(second.process);
    second.process.kill('SIGTERM');
    expect((await idleExit).code).toBe(0);
    expect(await liveReplicas('gs-module')).toBe(0);
  }, 120_000);
});

describe('the API stopped by SIGTERM', () => {
  it('answers readiness 503, ends event streams with a retry hint, and finishes a half-sent request', async () => {
    const port = await freePort();
    const api = spawn(process.execPath, [rpa, 'api'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        LOG_PRETTY: 'false',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: system.config.DATABASE_URL,
        REDIS_URL: system.config.REDIS_URL,
        REDIS_KEY_PREFIX: system.config.REDIS_KEY_PREFIX,
        TEMPORAL_ADDRESS: system.config.TEMPORAL_ADDRESS,
        CONTROL_TASK_QUEUE: system.config.CONTROL_TASK_QUEUE,
        API_SHUTDOWN_DELAY_SECONDS: '2',
        API_SHUTDOWN_TIMEOUT_SECONDS: '20',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(api);
    let output = '';
    api.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    api.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${system.adminKey}` };
    await eventually(async () => {
      const res = await fetch(`${base}/health/ready`).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    }, 30_000);

    // An event stream of a robot that waits (no module runs now): it stays open until the shutdown.
    const waiting = await fetch(`${base}/v1/robots`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'noop-pipeline', input: {} }),
    });
    expect(waiting.status).toBe(201);
    const { robotId } = (await waiting.json()) as { robotId: string };
    const stream = await fetch(`${base}/v1/robots/${robotId}/events`, { headers: auth });
    expect(stream.status).toBe(200);
    const streamText = stream.text();

    // A create whose body is half-sent when the signal comes.
    const body = JSON.stringify({ type: 'noop-pipeline', input: { note: 'x'.repeat(2000) } });
    let answer: { status: number; body: string } | undefined;
    const slow = http.request(`${base}/v1/robots`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const answered = new Promise<void>((resolve, reject) => {
      slow.on('response', (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          answer = { status: res.statusCode ?? 0, body: text };
          resolve();
        });
      });
      slow.on('error', reject);
    });
    slow.write(body.slice(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const exit = exited(api);
    api.kill('SIGTERM');
    // Readiness turns 503 at once (the delay keeps the port open so a balancer can see it).
    const ready = await eventually(
      async () => {
        const res = await fetch(`${base}/health/ready`);
        return res.status === 503 ? ((await res.json()) as { draining?: boolean }) : undefined;
      },
      1500,
      50,
    );
    expect(ready.draining).toBe(true);
    // The stream ends with the hint instead of holding the shutdown.
    const text = await streamText;
    expect(text).toContain('event: robot');
    expect(text).toMatch(/retry: \d+\nevent: shutdown\n/);
    expect(answer).toBeUndefined();
    // After the delay the port takes no new connection, while the half-sent request is still open.
    await eventually(
      async () => {
        const refused = await fetch(`${base}/health/live`).then(
          () => false,
          () => true,
        );
        return refused ? true : undefined;
      },
      5000,
      50,
    );
    expect(api.exitCode).toBeNull();

    slow.end(body.slice(1000));
    await answered;
    expect(answer?.status).toBe(201);
    const { robotId: lateId } = JSON.parse(answer?.body ?? '{}') as { robotId: string };
    const { code } = await exit;
    expect(code).toBe(0);
    expect(output).toContain('api draining: readiness 503');
    // Nothing lost: the half-sent create is a robot like any other.
    const rows = await system.sql.query('select robot_id from robots where robot_id = $1', [lateId]);
    expect(rows.rowCount).toBe(1);
  }, 90_000);
});
