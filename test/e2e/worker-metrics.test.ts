import net from 'node:net';
import { fixture } from '../support/document-samples';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink';
import { eventually, startTestSystem, type TestSystem } from '../support/test-system';
import { spawnModuleWorker, type WorkerProcess } from '../support/worker-process';

let system: TestSystem;
let worker: WorkerProcess | undefined;
let metricsPort = 0;
let sink: SmtpSink;
/** Recipients of every message the sink accepted. */
const delivered = () => sink.mails.flatMap((mail) => mail.to);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  // A loopback SMTP sink for the send-email step of the module worker process.
  sink = await startSmtpSink();
  system = await startTestSystem({ module: false });
});

afterAll(async () => {
  await worker?.kill();
  await system?.close();
  await sink?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

async function runRobot(type: string, input: Record<string, unknown>): Promise<void> {
  const created = await system.api.post('/v1/robots').send({ type, input });
  expect(created.status).toBe(201);
  await system.temporal.workflow.getHandle(created.body.robotId).result();
}

function sampleOf(text: string, pattern: RegExp): number | undefined {
  const line = text.split('\n').find((l) => pattern.test(l));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('a module worker process with metrics on', () => {
  it('serves its own step metrics and the Temporal SDK metrics on their ports', async () => {
    metricsPort = await freePort();
    const sdkPort = await freePort();
    worker = spawnModuleWorker(system.config, 'metered', 2, {
      SMTP_URL: `${sink.url}`,
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

    const text = await scrape();
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
    // Robot counts come from the API's background sampler (every second in tests).
    await eventually(async () => {
      const sampled = await system.api.get('/metrics');
      return sampleOf(sampled.text, /^rpa_robots\{status="completed",type="demo"\}/) === 1 ? true : undefined;
    });
  }, 90_000);

  it('counts OCR pages, their time and sent emails on the module worker', async () => {
    expect(worker).toBeDefined(); // started by the test above
    const before = await scrape();
    expect(sampleOf(before, /^rpa_ocr_pages_total\{/)).toBeUndefined();
    expect(sampleOf(before, /^rpa_emails_sent_total\{/)).toBeUndefined();

    // One scanned image page and one PDF with a text layer (two pages of one document kind each).
    for (const file of ['invoice-sans.png', 'invoice-text.pdf']) {
      const upload = await system.api.post('/v1/documents').attach('file', fixture(file), { filename: file });
      expect(upload.status).toBe(201);
      await runRobot('invoice-intake', { documentId: upload.body.documentId });
    }
    await runRobot('email-reply', { to: 'client@example.com', name: 'Ada', text: 'hello', subject: 'hi' });
    expect(delivered()).toEqual(['client@example.com']);

    const after = await scrape();
    expect(sampleOf(after, /^rpa_ocr_pages_total\{source="ocr",outcome="ok"\}/)).toBe(1);
    expect(
      sampleOf(after, /^rpa_ocr_pages_total\{source="text_layer",outcome="ok"\}/),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleOf(after, /^rpa_ocr_page_duration_seconds_count /)).toBe(1);
    expect(sampleOf(after, /^rpa_ocr_page_duration_seconds_sum /)).toBeGreaterThan(0);
    expect(sampleOf(after, /^rpa_emails_sent_total\{outcome="sent"\}/)).toBe(1);
  }, 120_000);
});
