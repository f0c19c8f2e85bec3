import { parseConfig } from '../../core/config';
import { createLogger } from '../../core/observability/logger';
import { serveWorkerMetrics } from '../../workers/metrics-server';

// The worker's metrics port is also its liveness probe (docker-compose.yml healthchecks, a
// Kubernetes livenessProbe): /healthz answers without the metrics token, /metrics still needs it.

const TOKEN = 'a-metrics-token-of-32-characters';
const logger = createLogger(parseConfig({ LOG_LEVEL: 'silent' }), 'test');

let close: (() => Promise<void>) | null = null;
let base = '';

beforeAll(async () => {
  // Port 0 takes a free port; the server logs the URL it really listens on.
  const info = jest.spyOn(logger, 'info');
  close = await serveWorkerMetrics(
    { WORKER_METRICS_PORT: 0, WORKER_METRICS_HOST: '127.0.0.1', METRICS_TOKEN: TOKEN },
    logger,
  );
  const logged = info.mock.calls.map(([fields]) => (fields as { url?: string }).url).find(Boolean);
  base = (logged ?? '').replace(/\/metrics$/, '');
  info.mockRestore();
});

afterAll(async () => {
  await close?.();
});

describe('worker metrics server', () => {
  test('answers GET /healthz with 200 and no token while it runs', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  test('still guards /metrics with the token', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('rpa_');
  });

  test('answers other paths and methods with 404, /healthz included', async () => {
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/health`)).status).toBe(404);
  });

  test('stops answering once closed (the probe then fails)', async () => {
    await close?.();
    close = null;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
