import { type SummaryRow, summaryMarkdown, summaryRows } from '../../bench/summary';

// The summary table of `npm run bench` (bench/summary.ts): the fields it reads from each bench's
// results JSON, the ratios and the verdicts against issue 17's goals.

const rowOf = (rows: SummaryRow[], start: string) => {
  const row = rows.find((candidate) => candidate.path.startsWith(start));
  if (!row) throw new Error(`no row starting with ${start}`);
  return row;
};

const stats = (p50: number, p99: number, mean = p50) => ({ p50, p99, mean });

test('every row says "not run" when no bench ran', () => {
  const rows = summaryRows({});
  expect(rows).toHaveLength(9);
  expect(rows.every((row) => row.met === 'not run' && row.ours === '—')).toBe(true);
});

test('throughput: robots/s against the bare workflow, 2 modules against 1, task time and events', () => {
  const rows = summaryRows({
    throughput: {
      totals: {
        baseline: { robotsPerSecond: 25 },
        'ours-1': { robotsPerSecond: 20 },
        'ours-2': { robotsPerSecond: 30 },
      },
      profiles: {
        ours: { events: 35, timings: { 'workflow task': { runMs: 900 } } },
        baseline: { events: 23, timings: { 'workflow task': { runMs: 300 } } },
      },
    },
  });
  expect(rowOf(rows, 'robots/s, 3 no-op')).toMatchObject({ ours: '20.0', ratio: '0.80×', met: 'no' });
  expect(rowOf(rows, 'robots/s with 2')).toMatchObject({ ours: '30.0', baseline: '20.0', ratio: '1.50×' });
  expect(rowOf(rows, 'workflow task')).toMatchObject({ ours: '900.0', baseline: '300.0', ratio: '3.00×' });
  expect(rowOf(rows, 'history events')).toMatchObject({ ours: '35', baseline: '23', met: '—' });
});

test('create, status and health: met only when every part of the goal is', () => {
  const near = summaryRows({
    'api-create': { options: { concurrency: 16 }, api: stats(65, 120), baseline: stats(50, 100) },
    status: {
      options: { rate: 500 },
      api: stats(1, 2.9, 1.5),
      baseline: stats(0.5, 1.95, 0.8),
      hitRatio: 1,
    },
    health: { options: { rate: 1000 }, stats: { health: { p99: 1.9 }, bare: { p99: 1.3 } } },
  });
  expect(rowOf(near, '`POST /v1/robots`')).toMatchObject({ ratio: '1.30× / 1.20×', met: 'yes' });
  expect(rowOf(near, '`GET /v1/robots/:id`')).toMatchObject({ ratio: '1.88× / 1.49×', met: 'yes' });
  expect(rowOf(near, '`GET /health`')).toMatchObject({ ours: '1.90', ratio: '1.46×', met: 'yes' });

  const over = summaryRows({
    'api-create': { options: { concurrency: 16 }, api: stats(65, 140), baseline: stats(50, 100) },
    // within the ratios, but the baseline is under 2 ms and ours over 3 ms
    status: { options: { rate: 500 }, api: stats(1, 3.1, 1.5), baseline: stats(0.5, 1.95, 0.8), hitRatio: 1 },
    health: { options: { rate: 1000 }, stats: { health: { p99: 1.9 }, bare: { p99: 1.2 } } },
  });
  expect(rowOf(over, '`POST /v1/robots`').met).toBe('no');
  expect(rowOf(over, '`GET /v1/robots/:id`').met).toBe('no');
  expect(rowOf(over, '`GET /health`').met).toBe('no');
});

test('selection at 100 and 1000 modules, OCR against the stronger native baseline', () => {
  const side = (activity: number, hgetall: number) => ({
    activity: { p99: activity },
    hgetall: { p99: hgetall },
  });
  const rows = summaryRows({
    selection: {
      results: [
        { modules: 10, stats: side(0.1, 0.1) },
        { modules: 100, stats: side(0.9, 0.5) },
        { modules: 1000, stats: side(4, 2) },
      ],
    },
    ocr: { speed: { ours: [4, 4], native: [3, 3], nativePerPage: [5, 5] }, cer: { points: 0.5 } },
  });
  expect(rowOf(rows, '`selectModule`')).toMatchObject({
    ours: '0.900 / 4.000',
    ratio: '1.80× / 2.00×',
    met: 'yes',
  });
  expect(rowOf(rows, 'OCR')).toMatchObject({
    baseline: 'native `tesseract` 5.00',
    ratio: '0.80×',
    met: 'yes',
  });
});

test('selection is judged on the routing snapshot when measured; the native engine is ours, not a baseline', () => {
  const side = (snapshot: number, activity: number, hgetall: number) => ({
    snapshot: { p99: snapshot },
    activity: { p99: activity },
    hgetall: { p99: hgetall },
  });
  const rows = summaryRows({
    selection: {
      results: [
        { modules: 100, stats: side(0.07, 5, 1.5) },
        { modules: 1000, stats: side(0.06, 38, 6) },
      ],
    },
    ocr: {
      speed: { ours: [9, 9], native: [6, 6], nativeList: [10, 10], nativeEngine: [15, 15] },
      cer: { points: -0.2 },
    },
  });
  expect(rowOf(rows, '`selectModule`')).toMatchObject({
    ours: '0.070 / 0.060 routing snapshot (per-call read 5.000 / 38.000)',
    met: 'yes',
  });
  expect(rowOf(rows, 'OCR')).toMatchObject({
    baseline: 'native `tesseract` 10.00',
    ratio: '0.90×',
    met: 'yes',
  });
  expect(rowOf(rows, 'OCR').ours).toContain('`OCR_ENGINE=native` 15.00 (1.50×)');
});

test('a goal whose figures are missing is "?", not "no" (a smoke run registers no 100 modules)', () => {
  const side = { activity: { p99: 0.2 }, hgetall: { p99: 0.1 } };
  const rows = summaryRows({ selection: { results: [{ modules: 5, stats: side }] } });
  expect(rowOf(rows, '`selectModule`')).toMatchObject({ ours: '? / ?', met: '?' });
});

test('the Markdown table has the columns of the issue', () => {
  const [header, align, ...body] = summaryMarkdown(summaryRows({}));
  expect(header).toBe('| path | ours | baseline | ratio | goal | met? |');
  expect(align).toBe('| --- | ---: | ---: | ---: | --- | --- |');
  expect(body).toHaveLength(9);
});
