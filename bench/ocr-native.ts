// Our OCR pool against the native `tesseract` CLI on the same pages with the same model: pages per
// second of `TesseractPool` (tesseract.js, 2 workers, as the module worker runs it) and of 2 parallel
// `tesseract` processes (Debian tesseract-ocr, OMP_THREAD_LIMIT=1) run two ways: one process per page
// (`native`), and the stronger baseline, one process per lane given the lane's whole list of pages
// (`tesseract list.txt`: the model is loaded once per process, `nativeList`); and, where
// scripts/build-native-ocr.js built it, our own libtesseract binding (`NativeOcrPool`, OCR_ENGINE=
// native, `nativeEngine`). All sides in rotating order within each round of the same run; character
// error rate of each against the known text of the committed image fixtures;
// and this process's RSS over `--rss-pages` pages through the pool with worker recycling as
// configured (OCR_RECYCLE_PAGES), start and end taken after the warm-up.
// Pages are the fixtures prepared once by the step's own `preparePage` (scaled, grey, PNG); both
// engines get those same PNG bytes. The CLI reads the traineddata that tesseract.js reads
// (@tesseract.js-data/eng, `4.0.0_best_int`, gzipped: unpacked once under .data/bench/tessdata).
// Options measured against the same baselines (docs in BENCHMARKS.md): `--workers N` tesseract.js
// workers (the baselines stay at 2 lanes), `--js-fast 1` tesseract.js on Debian's tessdata_fast model
// (/usr/share/tesseract-ocr/5/tessdata, from tesseract-ocr-eng) instead of `4.0.0_best_int`,
// `--rss-engine 2` the RSS run through the native engine instead of tesseract.js; OCR_RECYCLE_PAGES and
// OCR_MAX_DIMENSION from the environment as the module worker reads them.
// Usage: npm run bench:ocr -- [--pages N] [--rounds R] [--rss-pages N] [--rss-warmup N] [--images N]
//   [--workers N] [--js-fast 1] [--rss-engine 1|2] [--smoke] [--out FILE]
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { NATIVE_BINDING_PATH, NativeOcrPool } from '../activities/native-ocr';
import { ENG_LANG_PATH, type OcrEngine, TesseractPool } from '../activities/ocr-pool';
import { preparePage } from '../activities/page-images';
import { parseConfig } from '../core/config';
import { fixture } from '../test/support/document-samples';
import { characterErrorRate, degradedScan, imageFixtures, normalize } from '../test/support/ocr-accuracy';
import * as bench from './bench-support';

const NAME = 'ocr';
const WORKERS = 2;
const GOAL = { speedRatio: 0.8, cerPoints: 1, rssDriftPercent: 10 };
const WORK_DIR = path.join(bench.ROOT, '.data', 'bench', 'ocr');
const run = promisify(execFile);
/** Debian's tesseract-ocr-eng: the tessdata_fast model (`4.0.0_fast`). */
const DEBIAN_FAST_DATA = '/usr/share/tesseract-ocr/5/tessdata';

interface Page {
  file: string;
  png: Buffer;
  pngPath: string;
  truth: string;
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

async function loadPages(
  images: { file: string; lines: string[] }[],
  dir: string,
  maxDimension: number,
  maxPixels: number,
): Promise<Page[]> {
  mkdirSync(dir, { recursive: true });
  const variants = images.flatMap(({ file, lines }) => [
    { file, lines, degraded: false },
    { file, lines, degraded: true },
  ]);
  return Promise.all(
    variants.map(async ({ file, lines, degraded }) => {
      const original = fixture(file);
      const bytes = degraded ? await degradedScan(original) : original;
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

type Side = 'ours' | 'native' | 'nativeList' | 'nativeEngine';
const ORDER: Side[] = ['ours', 'nativeEngine', 'nativeList', 'native'];
const LABELS: Record<Side, string> = {
  ours: 'tesseract.js',
  nativeEngine: 'native engine',
  nativeList: 'CLI list',
  native: 'CLI per page',
};

/** `count` pages cycling over `pages`, `lanes` in flight; returns pages per second. */
async function throughput(read: Reader, pages: Page[], count: number, lanes = WORKERS): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      bench.throwIfInterrupted();
      const page = pages[next++ % pages.length];
      if (page) await read(page);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: lanes }, lane));
  return count / ((performance.now() - started) / 1000);
}

/** The CLI as the pool runs the engine: LSTM only, PSM 6 (tesseract.js's default; the CLI's is 3), DPI 300. */
const cliArgs = (tessdata: string) => [
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
];
const CLI_ENV = { ...process.env, OMP_THREAD_LIMIT: '1' };

/** One `tesseract` process reading a list of pages: its text per page (the CLI ends each with a form feed). */
async function readList(pages: Page[], listPath: string, tessdata: string): Promise<string[]> {
  writeFileSync(listPath, `${pages.map((page) => page.pngPath).join('\n')}\n`);
  const { stdout } = await run('tesseract', [listPath, 'stdout', ...cliArgs(tessdata)], {
    env: CLI_ENV,
    maxBuffer: 256 * 2 ** 20,
  });
  return stdout.split('\f').slice(0, pages.length);
}

/**
 * The stronger baseline: `count` pages cycling over `pages` dealt into `WORKERS` lists, one process per
 * list, all at once; the model load (once per process) is inside the time.
 */
async function listThroughput(pages: Page[], count: number, dir: string, tessdata: string): Promise<number> {
  const lists = Array.from({ length: WORKERS }, () => [] as Page[]);
  for (let i = 0; i < count; i++) {
    const page = pages[i % pages.length];
    if (page) lists[i % WORKERS]?.push(page);
  }
  bench.throwIfInterrupted();
  const started = performance.now();
  await Promise.all(
    lists.map((list, i) =>
      list.length > 0 ? readList(list, path.join(dir, `list-${i}.txt`), tessdata) : [],
    ),
  );
  return count / ((performance.now() - started) / 1000);
}

const cer = characterErrorRate;
const pct = (value: number) => `${(value * 100).toFixed(2)}%`;
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

bench.runBench(async (defer) => {
  const fixtures = imageFixtures();
  // images: how many of the image fixtures to read (each also as a degraded copy), all by default.
  const { opts: options, mode } = bench.benchOptions(
    {
      pages: 60,
      rounds: 2,
      'rss-pages': 1000,
      'rss-warmup': 50,
      images: fixtures.length,
      workers: WORKERS,
      'js-fast': 0,
      'rss-engine': 1,
    },
    {
      pages: 2,
      rounds: 1,
      'rss-pages': 4,
      'rss-warmup': 2,
      images: 1,
      workers: WORKERS,
      'js-fast': 0,
      'rss-engine': 1,
    },
  );
  const config = parseConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const version = ensureNativeTesseract();
  const tessdata = tessdataDir();
  // A smoke run prepares its pages apart, so as not to rewrite files a full run's CLI is reading.
  const pagesDir = mode.smoke ? path.join(WORK_DIR, 'smoke') : WORK_DIR;
  const pages = await loadPages(
    fixtures.slice(0, options.images),
    pagesDir,
    config.OCR_MAX_DIMENSION,
    config.DOCUMENT_MAX_PIXELS,
  );
  const machine = await bench.describeMachine(null, 'not used');
  console.log(`${bench.machineSummary(machine, version)}; ${pages.length} fixture pages`);

  const jsFast = options['js-fast'] === 1;
  if (jsFast && !existsSync(path.join(DEBIAN_FAST_DATA, 'eng.traineddata'))) {
    throw new Error(
      `--js-fast: ${DEBIAN_FAST_DATA}/eng.traineddata is missing (apt-get install tesseract-ocr-eng)`,
    );
  }
  const pool = new TesseractPool({
    workers: options.workers,
    recyclePages: config.OCR_RECYCLE_PAGES,
    ...(jsFast ? { langPath: DEBIAN_FAST_DATA, gzip: false } : {}),
  });
  defer(() => pool.close());
  const read =
    (engine: OcrEngine): Reader =>
    async (page) =>
      (await engine.recognize(page.png)).text;
  const ours = read(pool);
  const native: Reader = async (page) =>
    (
      await run('tesseract', [page.pngPath, 'stdout', ...cliArgs(tessdata)], {
        env: CLI_ENV,
        maxBuffer: 4 * 2 ** 20,
      })
    ).stdout;
  // Our libtesseract binding where it is built (Debian's libtesseract-dev); absent elsewhere.
  const nativePool = existsSync(NATIVE_BINDING_PATH) ? new NativeOcrPool({ workers: WORKERS }) : null;
  if (nativePool) defer(() => nativePool.close());
  const engineVersion = nativePool?.check() ?? null;

  // Warm-up (starts the pool's workers, fills the page cache for the CLI) doubles as the CER pass.
  const accuracy = {
    ours: [] as number[],
    native: [] as number[],
    nativeList: [] as number[],
    nativeEngine: [] as number[],
  };
  for (const page of pages) {
    accuracy.ours.push(cer(await ours(page), page.truth));
    accuracy.native.push(cer(await native(page), page.truth));
    if (nativePool) accuracy.nativeEngine.push(cer(await read(nativePool)(page), page.truth));
  }
  const listed = await readList(pages, path.join(pagesDir, 'list-cer.txt'), tessdata);
  pages.forEach((page, i) => {
    accuracy.nativeList.push(cer(listed[i] ?? '', page.truth));
  });

  const sides: Side[] = ['native', 'nativeList', 'ours', ...(nativePool ? (['nativeEngine'] as const) : [])];
  const rate = (side: Side): Promise<number> => {
    if (side === 'nativeList') return listThroughput(pages, options.pages, pagesDir, tessdata);
    if (side === 'ours') return throughput(ours, pages, options.pages, options.workers);
    if (side === 'native') return throughput(native, pages, options.pages);
    if (!nativePool) throw new Error('the native engine is not built');
    return throughput(read(nativePool), pages, options.pages);
  };
  const speed: Record<Side, number[]> = { ours: [], native: [], nativeList: [], nativeEngine: [] };
  for (let round = 0; round < options.rounds; round++) {
    // Each round starts one side later, so no side always runs first (or always after the CLI).
    const order = sides.map((_, i) => sides[(i + round) % sides.length] as Side);
    for (const side of order) {
      const pagesPerSecond = await rate(side);
      speed[side].push(pagesPerSecond);
      console.log(`round ${round + 1} ${side}: ${pagesPerSecond.toFixed(2)} pages/s`);
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
  const rssEngine = options['rss-engine'] === 2 && nativePool ? 'nativeEngine' : 'ours';
  const rssRead = rssEngine === 'nativeEngine' && nativePool ? read(nativePool) : ours;
  const lane = async () => {
    while (issued < total + warmup) {
      bench.throwIfInterrupted();
      const page = pages[issued++ % pages.length];
      if (page) await rssRead(page);
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

  const rateOf = (side: Side) => mean(speed[side]);
  const cerOf = (side: Side) => mean(accuracy[side]);
  const oursRate = rateOf('ours');
  const nativeRate = rateOf('native');
  const listRate = rateOf('nativeList');
  const ratio = oursRate / nativeRate;
  const ratios = {
    oursVsNative: ratio,
    oursVsList: oursRate / listRate,
    nativeEngineVsList: nativePool ? rateOf('nativeEngine') / listRate : null,
    nativeEngineVsNative: nativePool ? rateOf('nativeEngine') / nativeRate : null,
  };
  const cerOurs = cerOf('ours');
  const cerNative = cerOf('native');
  // The goal's baseline is the stronger one: the CLI with the model loaded once per process.
  const cerPoints = (cerOurs - cerOf('nativeList')) * 100;
  const cerPointsNativeEngine = nativePool ? (cerOf('nativeEngine') - cerOf('nativeList')) * 100 : null;
  const met = {
    speed: ratios.oursVsList >= GOAL.speedRatio,
    cer: cerPoints <= GOAL.cerPoints,
    rss: Math.abs(drift) < GOAL.rssDriftPercent,
    nativeEngine: nativePool
      ? (ratios.nativeEngineVsList ?? 0) >= GOAL.speedRatio && (cerPointsNativeEngine ?? 0) <= GOAL.cerPoints
      : null,
  };
  const shown = sides.slice().sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
  const rows: [string, string[]][] = [
    ...pages.map((page, i): [string, string[]] => [
      `CER ${page.file}`,
      shown.map((side) => pct(accuracy[side][i] ?? Number.NaN)),
    ]),
    ['CER mean', shown.map((side) => pct(cerOf(side)))],
    ['pages/s (mean of rounds)', shown.map((side) => rateOf(side).toFixed(2))],
    ['pages/s per round', shown.map((side) => speed[side].map((r) => r.toFixed(2)).join(', '))],
    ['ratio to the list baseline', shown.map((side) => (rateOf(side) / listRate).toFixed(2))],
  ];
  const header = shown.map((side) => LABELS[side]);
  console.log(`\n${bench.table(rows, header)}`);
  console.log(
    `ratio ours/native-list ${ratios.oursVsList.toFixed(2)}, ours/native-per-page ${ratio.toFixed(2)}` +
      (ratios.nativeEngineVsList === null
        ? ''
        : `, native engine/native-list ${ratios.nativeEngineVsList.toFixed(2)}`) +
      `; RSS (${rssEngine}) ${mib(rssStart)} → ${mib(rssEnd)} MiB (${drift.toFixed(1)}%)`,
  );
  const verdict = (ok: boolean) => (ok ? 'met' : 'not met');
  const signed = (points: number) => `${points >= 0 ? '+' : ''}${points.toFixed(2)}`;
  const section = [
    ...bench.measuredOn(new Date().toISOString(), machine, `${version} (Debian tesseract-ocr)`),
    '',
    `${pages.length} pages: the ${pages.length / 2} committed image fixtures and a degraded copy of each (40% size, blur 0.7,`,
    'JPEG quality 30), prepared once by',
    `\`preparePage\`; ${options.pages} pages per side per round, ${options.rounds} rounds in rotating order,`,
    `${WORKERS} in flight per side: \`TesseractPool\` with ${options.workers} workers (recycled every ${config.OCR_RECYCLE_PAGES} pages)`,
    `vs ${WORKERS} parallel \`tesseract\` processes (\`OMP_THREAD_LIMIT=1\`, \`--oem 1 --psm 6 --dpi 300\`), one per page`,
    `and, the stronger baseline, one per lane reading its list of pages (model loaded once per process)${nativePool ? `; and \`NativeOcrPool\` (OCR_ENGINE=native: our binding to libtesseract ${engineVersion}, ${WORKERS} engines)` : ''},`,
    `all on \`@tesseract.js-data/eng\` \`4.0.0_best_int\` (LSTM, integer; gunzipped for the CLI)${jsFast ? ", except tesseract.js on Debian's tessdata_fast" : ''}.`,
    'CER: Levenshtein distance over whitespace-normalised text / length of the known text.',
    '',
    ...bench.markdownTable(['measure', ...header], rows),
    '',
    `RSS of the bench process over ${total} pages through ${rssEngine === 'ours' ? 'the tesseract.js pool' : 'the native engine'} after ${warmup} warm-up pages (mean of the`,
    `first vs the last ${window} pages, sampled every ${every}): ${mib(rssStart)} MiB → ${mib(rssEnd)} MiB, drift ${drift.toFixed(1)}%,`,
    `min ${mib(rssMin)} MiB, max ${mib(rssMax)} MiB.`,
    '',
    `Goal: ≥ ${GOAL.speedRatio}× the list baseline's pages/s, CER within ${GOAL.cerPoints} point of it, RSS drift < ${GOAL.rssDriftPercent}%.`,
    `This run, tesseract.js: ratio ${ratios.oursVsList.toFixed(2)} (${verdict(met.speed)}), CER ${signed(cerPoints)} points (${verdict(met.cer)});`,
    ...(met.nativeEngine === null
      ? []
      : [
          `native engine: ratio ${(ratios.nativeEngineVsList ?? 0).toFixed(2)}, CER ${signed(cerPointsNativeEngine ?? 0)} points (${verdict(met.nativeEngine)});`,
        ]),
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
      cer: {
        ours: cerOurs,
        native: cerNative,
        nativeList: cerOf('nativeList'),
        nativeEngine: nativePool ? cerOf('nativeEngine') : null,
        points: cerPoints,
        pointsNativeEngine: cerPointsNativeEngine,
      },
      rss: { engine: rssEngine, rssStart, rssEnd, rssMin, rssMax, drift, samples },
      ratio,
      ratios,
      nativeEngine: engineVersion,
      jsData: jsFast ? 'tessdata_fast (Debian)' : '4.0.0_best_int',
      goal: { ...GOAL, met },
    },
    section,
  );
}, 3_600_000);
