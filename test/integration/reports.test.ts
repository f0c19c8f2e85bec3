import { randomUUID } from 'node:crypto';
import { startTestSystem, type TestSystem } from '../support/test-system';

let system: TestSystem;
const day = '2026-03-10';

beforeAll(async () => {
  system = await startTestSystem();
  // Robots finished on one day, with known processing times: the report's figures are exact.
  const rows: [string, string, string | null, number, number, string][] = [
    // type, status, module, processing ms, retries, updated_at
    ['invoice', 'completed', system.moduleName, 100, 0, `${day}T10:00:00Z`],
    ['invoice', 'completed', system.moduleName, 200, 1, `${day}T10:10:00Z`],
    ['invoice', 'completed', system.moduleName, 300, 0, `${day}T10:20:00Z`],
    ['invoice', 'failed', system.moduleName, 400, 2, `${day}T10:30:00Z`],
    ['invoice', 'cancelled', null, 50, 0, `${day}T11:00:00Z`],
    ['receipt', 'completed', system.moduleName, 1000, 0, `${day}T11:30:00Z`],
    // Outside the window, and not finished: never counted.
    ['invoice', 'completed', system.moduleName, 9999, 0, '2026-03-11T00:00:00Z'],
    ['invoice', 'running', system.moduleName, 9999, 0, `${day}T10:00:00Z`],
  ];
  for (const [type, status, module, ms, retries, at] of rows) {
    await system.sql.query(
      `insert into robots (robot_id, robot_type, status, module_name, processing_time_ms, retry_count, created_at, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [randomUUID(), type, status, module, ms, retries, at],
    );
  }
});

afterAll(async () => {
  await system?.close();
});

const window = { from: `${day}T00:00:00Z`, to: `${day}T12:00:00Z` };

describe('GET /v1/reports/performance', () => {
  it('gives throughput, latency percentiles and success rate per robot type and per module', async () => {
    const res = await system.api.get('/v1/reports/performance').query(window);
    expect(res.status).toBe(200);
    expect(res.body.from).toBe('2026-03-10T00:00:00.000Z');
    expect(res.body.robotTypes.invoice).toEqual({
      finished: 5,
      completed: 3,
      failed: 1,
      cancelled: 1,
      throughputPerHour: 0.42,
      successRate: 0.75,
      latencyMs: { p50: 200, p95: 380, p99: 396, mean: 210 },
      retries: 3,
    });
    expect(res.body.robotTypes.receipt).toMatchObject({
      finished: 1,
      successRate: 1,
      latencyMs: { p50: 1000 },
    });
    expect(res.body.modules[system.moduleName]).toMatchObject({ finished: 5, completed: 4, failed: 1 });
    expect(res.body.modules['(none)']).toMatchObject({ finished: 1, cancelled: 1, successRate: null });
  });

  it('an empty window is an empty report, not an error', async () => {
    const res = await system.api
      .get('/v1/reports/performance')
      .query({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ robotTypes: {}, modules: {} });
  });

  it.each([
    [{ from: `${day}T12:00:00Z`, to: `${day}T00:00:00Z` }, 'query.from: must be before to'],
    [
      { from: '2025-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      'query.from: the range may span at most 93 days',
    ],
    [{ from: 'yesterday' }, 'query.from'],
    [{ to: '2026-13-40T00:00:00Z' }, 'query.to'],
    [{ since: day }, 'query'],
  ])('refuses %j with a 400 problem', async (query, detail) => {
    const res = await system.api.get('/v1/reports/performance').query(query);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toContain(detail);
  });
});
