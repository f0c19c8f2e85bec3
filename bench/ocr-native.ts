// Our OCR pool against the native `tesseract` CLI on the same pages with the same model: pages per
// second of `TesseractPool` (tesseract.js, 2 workers, as the module worker runs it) and of 2 parallel
// `tesseract` processes (Debian tesseract-ocr, OMP_THREAD_LIMIT=1), in alternating blocks of the
// same run; character error rate of both against the known text of the committed image fixtures;
// and this process's RSS over `--rss-pages` pages through the pool with worker recycling as
// configured (OCR_RECYCLE_PAGES), start and end taken after the warm-up.
// Pages are the fixtures prepared once by the step's own `preparePage` (scaled, grey, PNG); both
// engines get those same PNG bytes. The CLI reads the traineddata that tesseract.js reads
// (@tesseract.js-data/eng, `4.0.0_best_int`, gzipped: unpacked once under .data/bench/tessdata).
// Usage: npm run bench:ocr -- [--pages N] [--rounds R] [--rss-pages N] [--rss-warmup N] [--images N]
//   [--smoke] [--out FILE]
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { ENG_LANG_PATH, TesseractPool } from '../activities/ocr-pool';
import { preparePage } from '../activities/page-images';
import { parseConfig } from '../core/config';
import { FIXTURES_DIR, fixture } from '../test/support/document-samples';
import * as bench from './bench-support';

const NAME = 'ocr';
const WORKERS = 2;
const GOAL = { speedRatio: 0.8, cerPoints: 1, rssDriftPercent: 10 };
const WORK_DIR = path.join(bench.ROOT, '.data', 'bench', 'ocr');
const run = promisify(execFile);

interface Page {
  file: string;
  png: Buffer;
  pngPath: string;
  truth: string;
}

/** Whitespace runs become one space: CER counts characters read, not the layout's padding. */
export const normalize = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Edit distance (insert, delete, substitute each cost 1), two rows of memory. */
export function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function ensureNativeTesseract(): string {
  const found = spawnSync('tesseract', ['--version'], { encoding: 'utf8' });
  if (found.status === 0) return (found.stdout || found.stderr).split('\n')[0]?.trim() ?? 'tesseract';
  console.log(
    'native tesseract is not on PATH: installing Debian tesseract-ocr (scripts/install-tesseract-cli.sh)',
  );
  const installed = spawnSync('bash', [path.join(bench.ROOT, 'scripts', 'install-tesseract-cli.sh')], {
    stdio: 'inherit',
  });
  if (installed.status !== 0) throw new Error('could not install tesseract-ocr; install it and rerun');
  return ensureNativeTesseract();
}

/** The gzipped traineddata tesseract.js loads, unpacked for the CLI's --tessdata-dir. */
function tessdataDir(): string {
  const dir = path.join(WORK_DIR, 'tessdata');
  const target = path.join(dir, 'eng.traineddata');
  if (!existsSync(target)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(target, gunzipSync(readFileSync(path.join(ENG_LANG_PATH, 'eng.traineddata.gz'))));
  }
  return dir;
}

/** The committed image fixtures (PDFs are poppler's part, not OCR's) with their known lines. */
function imageFixtures(): { file: string; lines: string[] }[] {
  const expected = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'expected.json'), 'utf8')) as {
    file: string;
    lines: string[];
  }[];
  return expected.filter((entry) => /\.(png|jpe?g|tiff?)$/.test(entry.file));
}

async function loadPages(
  images: { file: string; lines: string[] }[],
  dir: string,
  maxDimension: number,
  maxPixels: number,
): Promise<Page[]> {
  mkdirSync(dir, { recursive: true });
  // Clean fixtures read perfectly with both engines; a degraded copy of each (a 40% size fax-like
  // scan, blurred, JPEG at quality 30) gives the error rates something to differ on.
  const degrade = async (bytes: Buffer) => {
    const { width = 1240 } = await sharp(bytes).metadata();
    return sharp(bytes)
      .resize({ width: Math.round(width * 0.4) })
      .blur(0.7)
      .jpeg({ quality: 30 })
      .toBuffer();
  };
  const variants = images.flatMap(({ file, lines }) => [
    { file, lines, degraded: false },
    { file, lines, degraded: true },
  ]);
  return Promise.all(
    variants.map(async ({ file, lines, degraded }) => {
      const original = fixture(file);
      const bytes = degraded ? await degrade(original) : original;
      const { png } = await preparePage(bytes, { maxDimension, maxPixels });
      const name = `${path.parse(file).name}${degraded ? '-degraded' : ''}`;
      const pngPath = path.join(dir, `${name}.png`);
      writeFileSync(pngPath, png);
      return {
        file: degraded ? `${file} (degraded)` : file,
        png,
        pngPath,
        truth: normalize(lines.join('\n')),
      };
    }),
  );
}

type Reader = (page: Page) => Promise<string>;

/** `count` pages cycling over `pages`, `WORKERS` in flight; returns pages per second. */
async function throughput(read: Reader, pages: Page[], count: number): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      bench.throwIfInterrupted();
      const page = pages[next++ % pages.length];
      if (page) await read(page);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: WORKERS }, lane));
  return count / ((performance.now() - started) / 1000);
}

const cer = (text: string, truth: string) => levenshtein(normalize(text), truth) / truth.length;
const pct = (value: number) => `${(value * 100).toFixed(2)}%`;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

bench.runBench(async (defer) => {
  const fixtures = imageFixtures();
  // images: how many of the image fixtures to read (each also as a degraded copy), all by default.
  const { opts: options, mode } = bench.benchOptions(
    { pages: 60, rounds: 2, 'rss-pages': 1000, 'rss-warmup': 50, images: fixtures.length },
    { pages: 2, rounds: 1, 'rss-pages': 4, 'rss-warmup': 2, images: 1 },
  );
  const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const version = ensureNativeTesseract();
  const tessdata = tessdataDir();
  // A smoke run prepares its pages apart, so as not to rewrite files a full run's CLI is reading.
  const pages = await loadPages(
    fixtures.slice(0, options.images),
    mode.smoke ? path.join(WORK_DIR, 'smoke') : WORK_DIR,
    config.OCR_MAX_DIMENSION,
    config.DOCUMENT_MAX_PIXELS,
  );
  const machine = await bench.describeMachine(null, 'not used');
  console.log(`${bench.machineSummary(machine, version)}; ${pages.length} fixture pages`);

  const pool = new TesseractPool({ workers: WORKERS, recyclePages: config.OCR_RECYCLE_PAGES });
  defer(() => pool.close());
  const ours: Reader = async (page) => (await pool.recognize(page.png)).text;
  // The CLI as the pool runs the engine: LSTM only, PSM 6 (the library default tesseract.js keeps;
  // the CLI's own default is 3), DPI 300 (the pool's user_defined_dpi).
  const native: Reader = async (page) =>
    (
      await run(
        'tesseract',
        [
          page.pngPath,
          'stdout',
          '--tessdata-dir',
          tessdata,
          '-l',
          'eng',
          '--oem',
          '1',
          '--psm',
          '6',
          '--dpi',
          '300',
        ],
        { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, maxBuffer: 4 * 2 ** 20 },
      )
    ).stdout;

  // Warm-up (starts the pool's workers, fills the page cache for the CLI) doubles as the CER pass.
  const accuracy = { ours: [] as number[], native: [] as number[] };
  for (const page of pages) {
    accuracy.ours.push(cer(await ours(page), page.truth));
    accuracy.native.push(cer(await native(page), page.truth));
  }

  const speed = { ours: [] as number[], native: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? (['native', 'ours'] as const) : (['ours', 'native'] as const);
    for (const side of order) {
      const rate = await throughput(side === 'ours' ? ours : native, pages, options.pages);
      speed[side].push(rate);
      console.log(`round ${round + 1} ${side}: ${rate.toFixed(2)} pages/s`);
    }
  }

  // RSS of this process (the pool's workers are threads in it) every 10 pages; start and end are the
  // means over the first and the last 100 pages after the warm-up (both narrower for a short run).
  const warmup = options['rss-warmup'];
  const total = options['rss-pages'];
  const every = Math.max(1, Math.min(10, Math.floor(total / 10)));
  const window = Math.max(1, Math.min(100, Math.floor(total / 2)));
  const samples: { page: number; rss: number }[] = [];
  let done = 0;
  let issued = 0;
  const lane = async () => {
    while (issued < total + warmup) {
      bench.throwIfInterrupted();
      const page = pages[issued++ % pages.length];
      if (page) await ours(page);
      done += 1;
      if (done > warmup && (done - warmup) % every === 0)
        samples.push({ page: done - warmup, rss: process.memoryUsage().rss });
      if (done % 100 === 0)
        console.log(`rss run: ${done}/${total + warmup} pages, ${mib(process.memoryUsage().rss)} MiB`);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, lane));
  const rssStart = mean(samples.filter((s) => s.page <= window).map((s) => s.rss));
  const rssEnd = mean(samples.filter((s) => s.page > total - window).map((s) => s.rss));
  const rssMax = Math.max(...samples.map((s) => s.rss));
  const rssMin = Math.min(...samples.map((s) => s.rss));
  const drift = ((rssEnd - rssStart) / rssStart) * 100;

  const oursRate = mean(speed.ours);
  const nativeRate = mean(speed.native);
  const ratio = oursRate / nativeRate;
  const cerOurs = mean(accuracy.ours);
  const cerNative = mean(accuracy.native);
  const cerPoints = (cerOurs - cerNative) * 100;
  const met = {
    speed: ratio >= GOAL.speedRatio,
    cer: cerPoints <= GOAL.cerPoints,
    rss: Math.abs(drift) < GOAL.rssDriftPercent,
  };
  const rows: [string, string[]][] = [
    ...pages.map((page, i): [string, string[]] => [
      `CER ${page.file}`,
      [pct(accuracy.ours[i] ?? Number.NaN), pct(accuracy.native[i] ?? Number.NaN)],
    ]),
    ['CER mean', [pct(cerOurs), pct(cerNative)]],
    ['pages/s (mean of rounds)', [oursRate.toFixed(2), nativeRate.toFixed(2)]],
  ];
  const header = ['', 'ours', 'native'];
  console.log(`\n${bench.table(rows, header.slice(1))}`);
  console.log(
    `ratio ours/native ${ratio.toFixed(2)}; RSS ${mib(rssStart)} → ${mib(rssEnd)} MiB (${drift.toFixed(1)}%)`,
  );
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  const section = [
    ...bench.measuredOn(new Date().toISOString(), machine, `${version} (Debian tesseract-ocr)`),
    '',
    `${pages.length} pages: the ${pages.length / 2} committed image fixtures and a degraded copy of each (40% size, blur 0.7,`,
    'JPEG quality 30), prepared once by',
    `\`preparePage\`; ${options.pages} pages per side per round, ${options.rounds} rounds in alternating order,`,
    `${WORKERS} in flight per side: \`TesseractPool\` with ${WORKERS} workers (recycled every ${config.OCR_RECYCLE_PAGES} pages)`,
    `vs ${WORKERS} parallel \`tesseract\` processes (\`OMP_THREAD_LIMIT=1\`, \`--oem 1 --psm 6 --dpi 300\`),`,
    'both on `@tesseract.js-data/eng` `4.0.0_best_int` (LSTM, integer; gunzipped for the CLI).',
    'CER: Levenshtein distance over whitespace-normalised text / length of the known text.',
    '',
    ...bench.markdownTable(['measure', 'ours (tesseract.js pool)', 'native CLI'], rows),
    `| ratio ours / native pages/s | ${ratio.toFixed(2)} |  |`,
    `| pages/s per round | ${speed.ours.map((r) => r.toFixed(2)).join(', ')} | ${speed.native.map((r) => r.toFixed(2)).join(', ')} |`,
    '',
    `RSS of the bench process over ${total} pages through the pool after ${warmup} warm-up pages (mean of the`,
    `first vs the last ${window} pages, sampled every ${every}): ${mib(rssStart)} MiB → ${mib(rssEnd)} MiB, drift ${drift.toFixed(1)}%,`,
    `min ${mib(rssMin)} MiB, max ${mib(rssMax)} MiB.`,
    '',
    `Goal: ≥ ${GOAL.speedRatio}× native pages/s, CER within ${GOAL.cerPoints} point of native, RSS drift < ${GOAL.rssDriftPercent}%.`,
    `This run: ratio ${ratio.toFixed(2)} (${verdict(met.speed)}), CER ${cerPoints >= 0 ? '+' : ''}${cerPoints.toFixed(2)} points (${verdict(met.cer)}),`,
    `drift ${drift.toFixed(1)}% (${verdict(met.rss)}).`,
  ];
  return bench.publish(
    NAME,
    mode,
    [],
    {
      machine,
      version,
      options,
      pages: pages.map((page) => page.file),
      speed,
      accuracy,
      cer: { ours: cerOurs, native: cerNative, points: cerPoints },
      rss: { rssStart, rssEnd, rssMin, rssMax, drift, samples },
      ratio,
      goal: { ...GOAL, met },
    },
    section,
  );
}, 3_600_000);
