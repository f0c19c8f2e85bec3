import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/test-env';

// Every benchmark under bench/ in its smoke mode (`--smoke`: the same code as the full run with tiny
// sizes), each in its own process as `npm run bench*` runs it, so a benchmark that rots (a wait that
// never ends, a missing API key, a renamed field) fails here instead of on the next manual run.
// The figures of a smoke run mean nothing: only that it completes and reports what the full run does.

const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const BENCHMARKS_FILE = path.join(ROOT, 'BENCHMARKS.md');
const RUN_TIMEOUT_MS = 150_000; // one smoke run; seconds normally, minutes on a busy machine
const KILL_GRACE_MS = 30_000; // after SIGINT, the bench's own clean-up (databases, workflows, keys)
const TEST_TIMEOUT_MS = RUN_TIMEOUT_MS + KILL_GRACE_MS + 10_000;

interface Run {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  outputTail: string;
}

let outDir: string;

beforeAll(() => {
  outDir = mkdtempSync(path.join(tmpdir(), 'rpa-bench-smoke-'));
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

/**
 * `tsx <args>` in a process group of its own. Past the timeout it gets SIGINT (the bench stops and
 * cleans up), then the whole group (the bench's own children too) SIGKILL.
 */
function runTsx(args: string[]): Promise<Run> {
  const child = spawn(TSX, args, {
    cwd: ROOT,
    env: process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-6000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let timedOut = false;
  let killer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGINT');
    killer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    }, KILL_GRACE_MS);
  }, RUN_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ exitCode, signal, timedOut, outputTail: output.split('\n').slice(-40).join('\n') });
    });
  });
}

/** The run must have exited 0 on its own. */
function expectSuccess(run: Run, what: string): void {
  if (run.exitCode !== 0 || run.timedOut) {
    const how = run.timedOut
      ? `did not finish within ${RUN_TIMEOUT_MS / 1000} s`
      : `exited with ${run.exitCode ?? run.signal}`;
    throw new Error(`${what} ${how}; its output ends:\n${run.outputTail}`);
  }
}

/** A smoke run's JSON: it says smoke, no errors, and which machine. */
function readSmokeResult(file: string): Record<string, unknown> {
  const result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect(result).toMatchObject({ smoke: true, errors: 0 });
  expect(result.machine).toMatchObject({ cores: expect.any(Number), node: expect.stringMatching(/^v\d+/) });
  return result;
}

/** Runs the bench; it must exit 0 on its own, leave BENCHMARKS.md alone and write its JSON. */
async function smoke(script: string): Promise<Record<string, unknown>> {
  const out = path.join(outDir, `${path.parse(script).name}.json`);
  const benchmarksBefore = readFileSync(BENCHMARKS_FILE, 'utf8');
  const run = await runTsx([path.join('bench', script), '--smoke', '--out', out]);
  expectSuccess(run, `bench/${script} --smoke`);
  expect(readFileSync(BENCHMARKS_FILE, 'utf8')).toBe(benchmarksBefore);
  return readSmokeResult(out);
}

/** Latency statistics as bench-support's `summarize` makes them, over `count` operations. */
function expectStats(stats: unknown, count: number): void {
  expect(stats).toMatchObject({ count, opsPerSecond: expect.any(Number) });
  const s = stats as Record<'p50' | 'p90' | 'p99' | 'mean' | 'max', number>;
  for (const key of ['p50', 'p90', 'p99', 'mean', 'max'] as const) {
    expect(Number.isFinite(s[key]) && s[key] >= 0).toBe(true);
  }
  expect(s.p50).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
}

const goalVerdict = { met: expect.any(Boolean) };

test(
  'bench:create (api-create): POST /v1/robots to `rpa api` and the raw start, every request answered',
  async () => {
    const result = await smoke('api-create.ts');
    const { requests } = result.options as { requests: number };
    expectStats(result.api, requests);
    expectStats(result.baseline, requests);
    expect(Object.keys(result.ratio as object).sort()).toEqual(['max', 'mean', 'p50', 'p90', 'p99']);
    expect(result.goal).toMatchObject({ ratio: expect.any(Number), ...goalVerdict });
  },
  TEST_TIMEOUT_MS,
);

test(
  'bench:selection: the activity per call, from the routing snapshot (also after a change), and both baselines at each size',
  async () => {
    const result = await smoke('selection.ts');
    const { calls, sizes } = result.options as { calls: number; sizes: number[] };
    const results = result.results as { modules: number; eligible: number; stats: Record<string, unknown> }[];
    expect(results.map((r) => r.modules)).toEqual(sizes);
    for (const r of results) {
      expect(r.eligible).toBeGreaterThan(0);
      for (const side of ['activity', 'snapshot', 'churn', 'hgetall', 'pure'])
        expectStats(r.stats[side], calls);
    }
    // The goal is stated at 100 and 1000 modules, which a smoke run does not register: no verdict.
    expect(result.goal).toMatchObject({
      modules: 100,
      met: null,
      side: 'snapshot',
      large: { modules: 1000, met: null },
    });
  },
  TEST_TIMEOUT_MS,
);

test(
  'bench:throughput: robots through the API, control and 1 then 2 module processes, and the baseline',
  async () => {
    const result = await smoke('throughput.ts');
    const { robots, rounds } = result.options as { robots: number; rounds: number };
    const totals = result.totals as Record<string, { robotsPerSecond: number; latency: unknown }>;
    expect(Object.keys(totals).sort()).toEqual(['baseline', 'ours-1', 'ours-2']);
    for (const side of Object.values(totals)) {
      expectStats(side.latency, robots * rounds);
      expect(side.robotsPerSecond).toBeGreaterThan(0);
    }
    expect(result.runs).toHaveLength(3 * rounds);
    const profiles = result.profiles as Record<string, { events: number; timings: Record<string, unknown> }>;
    for (const side of ['ours', 'baseline']) {
      expect(profiles[side]?.events).toBeGreaterThan(0);
      expect(Object.keys(profiles[side]?.timings ?? {})).toEqual(
        expect.arrayContaining(['workflow task', 'noop']),
      );
    }
    // CPU seconds of every process over each side's timed runs, from /proc.
    const cpu = result.cpu as Record<string, { processes: Record<string, number>; machine: number | null }>;
    expect(Object.keys(cpu['ours-1']?.processes ?? {})).toEqual(
      expect.arrayContaining(['api', 'control', 'module-1', 'postgres', 'bench']),
    );
    expect(Object.keys(cpu['ours-2']?.processes ?? {})).toEqual(
      expect.arrayContaining(['module-1', 'module-2']),
    );
    expect(Object.keys(cpu.baseline?.processes ?? {})).toContain('bench');
    for (const side of Object.values(cpu)) {
      for (const seconds of Object.values(side.processes)) expect(seconds).toBeGreaterThanOrEqual(0);
      expect(side.machine).toBeGreaterThan(0);
    }
    expect(result.goal).toMatchObject({ ratio: 0.9, ...goalVerdict });
  },
  TEST_TIMEOUT_MS,
);

test(
  'bench:status: completed robots polled through the API and the bare Redis GET',
  async () => {
    const result = await smoke('status.ts');
    const { robots, rounds } = result.options as { robots: number; rounds: number };
    for (const side of ['api', 'baseline']) {
      expect((result[side] as { count: number }).count).toBeGreaterThan(0);
      expectStats(result[side], (result[side] as { count: number }).count);
    }
    const firstRead = result.firstRead as Record<string, number>;
    expect(Object.values(firstRead).reduce((sum, n) => sum + n, 0)).toBe(robots);
    // Where each timed read of ours was answered from (the x-robot-source header).
    const sources = result.sources as Record<string, number>;
    expect(Object.keys(sources).sort()).toEqual(['cache', 'database', 'temporal']);
    const polled = Object.values(sources).reduce((sum, n) => sum + n, 0);
    expect(polled).toBeGreaterThan(0);
    expect(result.hitRatio).toBeCloseTo((sources.cache ?? Number.NaN) / polled, 6);
    expect(result.runs).toHaveLength(2 * rounds);
    expect(result.goal).toMatchObject({ hitRatio: expect.any(Number), ...goalVerdict });
  },
  TEST_TIMEOUT_MS,
);

test(
  'npm run bench -- --smoke health: the runner runs only bench:health (/health and /health/ready at `ok` beside the bare server) and prints its summary row',
  async () => {
    const dir = path.join(outDir, 'runner');
    const benchmarksBefore = readFileSync(BENCHMARKS_FILE, 'utf8');
    const run = await runTsx([path.join('scripts', 'bench.ts'), '--smoke', '--out-dir', dir, 'health']);
    expectSuccess(run, 'scripts/bench.ts --smoke health');
    expect(readFileSync(BENCHMARKS_FILE, 'utf8')).toBe(benchmarksBefore);
    expect(readdirSync(dir).sort()).toEqual(['health.smoke.json', 'summary.smoke.json']);
    // The summary table: the health row with figures and a verdict, the other benches not run.
    expect(run.outputTail).toMatch(
      /^\| `GET \/health` p99 ms at \d+ req\/s \(`bench:health`\) \| \d+\.\d+ \| `node:http` constant \d+\.\d+ \| \d+\.\d+× \| .* \| (yes|no) \|$/m,
    );
    expect(run.outputTail).toMatch(/^\| `POST \/v1\/robots`.* \| not run \|$/m);
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.smoke.json'), 'utf8')) as {
      outcomes: { name: string; ok: boolean }[];
    };
    expect(summary.outcomes).toEqual([{ name: 'health', ok: true, seconds: expect.any(Number) }]);

    const result = readSmokeResult(path.join(dir, 'health.smoke.json'));
    const { rounds } = result.options as { rounds: number };
    const stats = result.stats as Record<string, { count: number }>;
    expect(Object.keys(stats).sort()).toEqual(['bare', 'health', 'ready']);
    for (const side of Object.values(stats)) {
      expect(side.count).toBeGreaterThan(0);
      expectStats(side, side.count);
    }
    expect(result.runs).toHaveLength(3 * rounds);
    expect(result.goal).toMatchObject({ p99Ms: 2, p99Ratio: 1.5, ...goalVerdict });
  },
  TEST_TIMEOUT_MS,
);

test('npm run bench with a word that names no bench: a usage error, nothing run', async () => {
  const run = await runTsx([path.join('scripts', 'bench.ts'), '--smoke', '--out-dir', outDir, 'healthz']);
  expect(run.exitCode).toBe(2);
  expect(run.outputTail).toContain('no bench matches: healthz');
  expect(run.outputTail).toContain(
    'benches: throughput, api-create, status, health, selection, ocr, ocr-pages, sqlite',
  );
  expect(readdirSync(outDir).filter((file) => file.startsWith('summary'))).toEqual([]);
});

test(
  'bench:ocr: the tesseract.js pool against the native tesseract CLI, CER and RSS',
  async () => {
    // The native baseline is Debian's tesseract-ocr, which `npm test`'s installer puts on PATH.
    const found = spawnSync('tesseract', ['--version'], { encoding: 'utf8' });
    if (found.status !== 0) {
      throw new Error(
        'the native `tesseract` CLI is not on PATH (bench:ocr compares against it): run `bash scripts/install-tesseract-cli.sh`',
      );
    }
    const result = await smoke('ocr-native.ts');
    const options = result.options as Record<'rounds' | 'rss-pages' | 'images', number>;
    const pages = result.pages as string[];
    expect(pages).toHaveLength(2 * options.images); // each image and its degraded copy
    // nativeList: the CLI reading a list of pages (the stronger baseline); nativeEngine: our libtesseract
    // binding, which `npm test` builds (libtesseract-dev is one of its system packages).
    const sides = ['ours', 'native', 'nativeList', 'nativeEngine'] as const;
    const speed = result.speed as Record<(typeof sides)[number], number[]>;
    const accuracy = result.accuracy as Record<(typeof sides)[number], number[]>;
    for (const side of sides) {
      expect(speed[side]).toHaveLength(options.rounds);
      for (const rate of speed[side]) expect(rate).toBeGreaterThan(0);
      expect(accuracy[side]).toHaveLength(pages.length);
      // Read text, not nothing: a CER of 1 or more is an empty or garbage reading.
      for (const cer of accuracy[side]) expect(cer).toBeLessThan(0.5);
    }
    expect(result.version).toMatch(/^tesseract \d/);
    expect(result.ratio).toBeGreaterThan(0);
    const rss = result.rss as { rssStart: number; rssEnd: number; samples: unknown[] };
    expect(rss.samples).toHaveLength(options['rss-pages']);
    expect(rss.rssStart).toBeGreaterThan(0);
    expect(rss.rssEnd).toBeGreaterThan(0);
    expect(result.goal).toMatchObject({
      met: { speed: expect.any(Boolean), cer: expect.any(Boolean), nativeEngine: expect.any(Boolean) },
    });
    const ratios = result.ratios as Record<string, number>;
    for (const key of ['oursVsList', 'oursVsNative', 'nativeEngineVsList', 'nativeEngineVsNative']) {
      expect(ratios[key]).toBeGreaterThan(0);
    }
    expect(result.nativeEngine).toMatch(/^\d+\.\d+/);
  },
  TEST_TIMEOUT_MS,
);

test(
  'bench:ocr-pages: fixtures through the OCR pipeline, an image and a PDF',
  async () => {
    const result = await smoke('ocr.ts');
    const { fixtures } = result.options as { fixtures: number[] };
    const rows = result.rows as { file: string; pages: number; sources: string; medianMs: number }[];
    expect(rows).toHaveLength(fixtures.length);
    expect(rows.map((row) => path.extname(row.file))).toEqual(['.png', '.pdf']);
    for (const row of rows) {
      expect(row.pages).toBeGreaterThan(0);
      expect(row.sources).not.toBe('');
      expect(row.medianMs).toBeGreaterThanOrEqual(0);
    }
  },
  TEST_TIMEOUT_MS,
);

test(
  'bench:sqlite: the dev server on a SQLite file, default against WAL, every robot finished',
  async () => {
    const result = await smoke('dev-server-sqlite.ts');
    const { robots, rounds } = result.options as { robots: number; rounds: number };
    const variants = result.variants as { variant: string; starts: unknown; robotsPerSecond: number[] }[];
    expect(variants.map((v) => v.variant)).toEqual([
      'default',
      'wal, synchronous full',
      'wal, synchronous normal',
    ]);
    for (const v of variants) {
      expectStats(v.starts, robots * rounds);
      expect(v.robotsPerSecond).toHaveLength(rounds);
      for (const rate of v.robotsPerSecond) expect(rate).toBeGreaterThan(0);
    }
  },
  TEST_TIMEOUT_MS,
);
