// The one table of `npm run bench` (scripts/bench.ts): a row per figure of issue 17, ours beside the
// baseline measured in the same bench run, their ratio, the goal and whether it is met, built from
// the benches' results JSON. A bench not run (filtered out, or failed) gives rows that say so.
//
// Fields read, so that whoever changes a bench's JSON keeps them (or changes this file with it):
//   throughput  totals['ours-1' | 'ours-2' | 'baseline'].robotsPerSecond,
//               profiles.{ours,baseline}.events, profiles.{ours,baseline}.timings['workflow task'].runMs
//   api-create  options.concurrency, api.{p50,p99}, baseline.{p50,p99}
//   status      options.rate, api.{mean,p99}, baseline.{mean,p99}, hitRatio
//   health      options.rate, stats.{health,bare}.p99
//   selection   results[].modules, results[].stats.{snapshot,activity,hgetall}.p99
//   ocr         speed.ours and speed.native* (pages/s per round; the baseline is the strongest of the
//               `native…` arrays but `nativeEngine`, which is ours), speed.nativeEngine, cer.points
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface SummaryRow {
  path: string;
  ours: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** 'yes' | 'no' | '—' (no numeric goal) | '?' (a figure missing) | 'not run' */
  met: string;
}

/** Results JSON by bench name (bench/results/<name>.json), absent when the bench was not run. */
export type Results = Partial<Record<string, unknown>>;

type Json = Record<string, unknown>;

/** `obj.a.b.c`, or undefined when any step is missing; numbers only at the end. */
function at(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value;
  for (const key of keys) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[String(key)];
  }
  return current;
}

function num(value: unknown, ...keys: (string | number)[]): number {
  const found = at(value, ...keys);
  return typeof found === 'number' && Number.isFinite(found) ? found : Number.NaN;
}

const fixed = (digits: number) => (value: number) => (Number.isNaN(value) ? '?' : value.toFixed(digits));
const ms = fixed(2);
/** Selection's figures are tenths of a millisecond and below. */
const ms3 = fixed(3);
const one = fixed(1);
const times = (value: number) => (Number.isNaN(value) ? '?' : `${value.toFixed(2)}×`);
const pair = (a: string, b: string) => `${a} / ${b}`;
const verdict = (ok: boolean | null) => (ok === null ? '—' : ok ? 'yes' : 'no');
/** '?' when a figure the goal needs is missing (e.g. a smoke run's selection has no 100 modules). */
const judge = (figures: number[], ok: boolean) => (figures.some(Number.isNaN) ? '?' : verdict(ok));
const mean = (values: unknown) =>
  Array.isArray(values) && values.length > 0
    ? values.reduce((sum: number, v) => sum + Number(v), 0) / values.length
    : Number.NaN;

function notRun(paths: string[], goals: string[]): SummaryRow[] {
  return paths.map((path, index) => ({
    path,
    ours: '—',
    baseline: '—',
    ratio: '—',
    goal: goals[index] ?? '—',
    met: 'not run',
  }));
}

function throughputRows(r: unknown): SummaryRow[] {
  const paths = [
    'robots/s, 3 no-op steps, 1 module process (`bench:throughput`)',
    'robots/s with 2 module processes (baseline: 1 module process)',
    'workflow task run time per robot, ms',
    'history events per robot',
  ];
  const goals = ['≥ 0.9×', 'scales until the server is the limit', '—', '—'];
  if (r === undefined) return notRun(paths, goals);
  const [one1, two, base] = ['ours-1', 'ours-2', 'baseline'].map((side) =>
    num(r, 'totals', side, 'robotsPerSecond'),
  ) as [number, number, number];
  const task = (side: string) => num(r, 'profiles', side, 'timings', 'workflow task', 'runMs');
  const events = (side: string) => num(r, 'profiles', side, 'events');
  const rows: [number, number, boolean | null][] = [
    [one1, base, one1 / base >= 0.9],
    [two, one1, null],
    [task('ours'), task('baseline'), null],
    [events('ours'), events('baseline'), null],
  ];
  return rows.map(([ours, baseline, ok], index) => ({
    path: paths[index] ?? '',
    ours: index === 3 ? String(ours) : one(ours),
    baseline: `${index === 0 ? 'bare workflow + same 3 activities: ' : ''}${index === 3 ? String(baseline) : one(baseline)}`,
    ratio: times(ours / baseline),
    goal: goals[index] ?? '—',
    met: ok === null ? verdict(ok) : judge([ours, baseline], ok),
  }));
}

function createRow(r: unknown): SummaryRow[] {
  const path = `\`POST /v1/robots\` p50 / p99 ms, concurrency ${at(r, 'options', 'concurrency') ?? 16} (\`bench:create\`)`;
  const goal = '≤ 1.3× (both)';
  if (r === undefined) return notRun([path], [goal]);
  const [p50, p99, b50, b99] = [
    num(r, 'api', 'p50'),
    num(r, 'api', 'p99'),
    num(r, 'baseline', 'p50'),
    num(r, 'baseline', 'p99'),
  ];
  return [
    {
      path,
      ours: pair(ms(p50), ms(p99)),
      baseline: `raw \`workflow.start\` ${pair(ms(b50), ms(b99))}`,
      ratio: pair(times(p50 / b50), times(p99 / b99)),
      goal,
      met: judge([p50, p99, b50, b99], p50 / b50 <= 1.3 && p99 / b99 <= 1.3),
    },
  ];
}

function statusRow(r: unknown): SummaryRow[] {
  const path = `\`GET /v1/robots/:id\` mean / p99 ms at ${at(r, 'options', 'rate') ?? 500} req/s (\`bench:status\`)`;
  const goal = 'mean ≤ 2×, p99 ≤ 1.5×; p99 ≤ 3 ms where the baseline is under 2 ms; hits ≥ 95%';
  if (r === undefined) return notRun([path], [goal]);
  const [mean1, p99, bMean, b99, hits] = [
    num(r, 'api', 'mean'),
    num(r, 'api', 'p99'),
    num(r, 'baseline', 'mean'),
    num(r, 'baseline', 'p99'),
    num(r, 'hitRatio'),
  ];
  const met = mean1 / bMean <= 2 && p99 / b99 <= 1.5 && (b99 >= 2 || p99 <= 3) && hits >= 0.95;
  return [
    {
      path,
      ours: `${pair(ms(mean1), ms(p99))} (hits ${one(hits * 100)}%)`,
      baseline: `\`node:http\` + Redis GET ${pair(ms(bMean), ms(b99))}`,
      ratio: pair(times(mean1 / bMean), times(p99 / b99)),
      goal,
      met: judge([mean1, p99, bMean, b99, hits], met),
    },
  ];
}

function healthRow(r: unknown): SummaryRow[] {
  const path = `\`GET /health\` p99 ms at ${at(r, 'options', 'rate') ?? 1000} req/s (\`bench:health\`)`;
  const goal = '≤ 2 ms and ≤ 1.5×';
  if (r === undefined) return notRun([path], [goal]);
  const [p99, b99] = [num(r, 'stats', 'health', 'p99'), num(r, 'stats', 'bare', 'p99')];
  return [
    {
      path,
      ours: ms(p99),
      baseline: `\`node:http\` constant ${ms(b99)}`,
      ratio: times(p99 / b99),
      goal,
      met: judge([p99, b99], p99 <= 2 && p99 / b99 <= 1.5),
    },
  ];
}

function selectionRow(r: unknown): SummaryRow[] {
  const path = '`selectModule` p99 ms, 100 / 1000 modules (`bench:selection`)';
  const goal = '≤ 1 ms / ≤ 5 ms';
  if (r === undefined) return notRun([path], [goal]);
  const results = (at(r, 'results') as unknown[] | undefined) ?? [];
  const bySize = (modules: number) => results.find((entry) => at(entry, 'modules') === modules);
  const side = (modules: number, name: string) => num(bySize(modules), 'stats', name, 'p99');
  // What a control worker runs: the routing snapshot (ADR 0041) where the bench measured it, else
  // the per-call read (an older results file, or the snapshot turned off).
  const snapshot = Number.isFinite(side(100, 'snapshot')) || Number.isFinite(side(1000, 'snapshot'));
  const ourSide = snapshot ? 'snapshot' : 'activity';
  const [a100, a1000, h100, h1000] = [
    side(100, ourSide),
    side(1000, ourSide),
    side(100, 'hgetall'),
    side(1000, 'hgetall'),
  ];
  const perCall = snapshot
    ? ` (per-call read ${pair(ms3(side(100, 'activity')), ms3(side(1000, 'activity')))})`
    : '';
  return [
    {
      path,
      ours: `${pair(ms3(a100), ms3(a1000))}${snapshot ? ' routing snapshot' : ''}${perCall}`,
      baseline: `\`HGETALL\` ${pair(ms3(h100), ms3(h1000))}`,
      ratio: pair(times(a100 / h100), times(a1000 / h1000)),
      goal,
      met: judge([a100, a1000, h100, h1000], a100 <= 1 && a1000 <= 5),
    },
  ];
}

function ocrRow(r: unknown): SummaryRow[] {
  const path = 'OCR pages/s, 2 workers (`bench:ocr`)';
  const goal = '≥ 0.8× the stronger native baseline, CER within 1 point';
  if (r === undefined) return notRun([path], [goal]);
  const ours = mean(at(r, 'speed', 'ours'));
  // The baselines are the tesseract CLI's ways (`native…`); `nativeEngine` is ours (OCR_ENGINE=native).
  const speeds = Object.entries((at(r, 'speed') as Json | undefined) ?? {});
  const natives = speeds
    .filter(([name]) => name.startsWith('native') && name !== 'nativeEngine')
    .map(([, rates]) => mean(rates));
  const native = natives.length > 0 ? Math.max(...natives) : Number.NaN;
  const engine = mean(at(r, 'speed', 'nativeEngine'));
  const engineNote = Number.isFinite(engine)
    ? `; \`OCR_ENGINE=native\` ${ms(engine)} (${times(engine / native)})`
    : '';
  const cerPoints = num(r, 'cer', 'points');
  return [
    {
      path,
      ours: `tesseract.js ${ms(ours)} (CER ${cerPoints >= 0 ? '+' : ''}${ms(cerPoints)} points)${engineNote}`,
      baseline: `native \`tesseract\` ${ms(native)}`,
      ratio: times(ours / native),
      goal,
      met: judge([ours, native, cerPoints], ours / native >= 0.8 && cerPoints <= 1),
    },
  ];
}

/** The rows in the order; `results` by bench name. */
export function summaryRows(results: Results): SummaryRow[] {
  return [
    ...throughputRows(results.throughput),
    ...createRow(results['api-create']),
    ...statusRow(results.status),
    ...healthRow(results.health),
    ...selectionRow(results.selection),
    ...ocrRow(results.ocr),
  ];
}

const HEADER = ['path', 'ours', 'baseline', 'ratio', 'goal', 'met?'];

export function summaryMarkdown(rows: SummaryRow[]): string[] {
  return [
    `| ${HEADER.join(' | ')} |`,
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...rows.map(
      (row) => `| ${[row.path, row.ours, row.baseline, row.ratio, row.goal, row.met].join(' | ')} |`,
    ),
  ];
}

export const SUMMARY_MARKERS = ['<!-- summary:start -->', '<!-- summary:end -->'] as const;

/** Rewrites the text between the summary markers of `file`; an error if the markers are missing. */
export function writeSummary(file: string, lines: string[]): void {
  const [startMarker, endMarker] = SUMMARY_MARKERS;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = current.indexOf(startMarker);
  const end = current.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error(`${file} has no ${startMarker} … ${endMarker} section`);
  const block = `${startMarker}\n${lines.join('\n')}\n${endMarker}`;
  writeFileSync(file, `${current.slice(0, start)}${block}${current.slice(end + endMarker.length)}`);
}
