import net from 'node:net';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

let system: TestSystem;
let worker: WorkerProcess | undefined;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await worker?.kill();
  await system?.close();
});

function sampleOf(text: string, pattern: RegExp): number | undefined {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('a module worker process with metrics on', () => {
  it('serves its own step metrics and the Temporal SDK metrics on their ports', async () => {
    const metricsPort = await freePort();
    const sdkPort = await freePort();
    worker = spawnModuleWorker(system.config, 'metered', 2, {
      WORKER_METRICS_PORT: String(metricsPort),
      TEMPORAL_METRICS_BIND: `127.0.0.1:${sdkPort}`,
    });
    await eventually(async () => {
      const res = await system.api.get('/v1/modules/metered');
      return res.status === 200 && res.body.live.replicas === 1 ? true : undefined;
    }, 30_000);

    const created = await system.api.post('/v1/robots').send({ type: 'demo', input: { text: 'meter me' } });
    expect(created.status).toBe(201);
    await system.temporal.workflow.getHandle(created.body.robotId).result();

    const ours = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(ours.status).toBe(200);
    const text = await ours.text();
    // demo = validate → classify → transform, each once on this worker.
    for (const step of ['validate', 'classify', 'transform']) {
      expect(
        sampleOf(
          text,
          new RegExp(`^rpa_module_steps_total\\{module="metered",step="${step}",outcome="ok"\\}`),
        ),
      ).toBe(1);
    }
    expect(sampleOf(text, /^rpa_module_step_run_seconds_count\{module="metered",step="validate"\}/)).toBe(1);
    expect(text).toContain('rpa_process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);

    const sdk = await fetch(`http://127.0.0.1:${sdkPort}/metrics`);
    expect(sdk.status).toBe(200);
    expect(await sdk.text()).toMatch(/temporal_activity_execution_latency|temporal_worker_task_slots/);

    // The control side (this process) counted the robot and its steps.
    const api = await system.api.get('/metrics');
    expect(
      sampleOf(api.text, /^rpa_robots_finished_total\{type="demo",status="completed"\}/),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleOf(api.text, /^rpa_step_duration_seconds_count\{module="metered",outcome="ok"\}/)).toBe(3);
    expect(
      sampleOf(api.text, /^rpa_module_selections_total\{result="chosen",failover="false"\}/),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleOf(api.text, /^rpa_robots\{status="completed",type="demo"\}/)).toBe(1);
  }, 90_000);
});
