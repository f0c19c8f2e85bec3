// OCR time per page on this machine: each committed fixture read `--rounds` times through the
// real pipeline (sharp preparation, poppler for PDFs, tesseract.js with `--workers` workers),
// after one warm-up read that also starts the workers. Prints a table and writes
// bench/results/ocr-pages.json; no Temporal, no database, no BENCHMARKS.md section.
// `--fixtures 1,7`: which fixtures, by their 1-based position in test/fixtures/documents/expected.json.
// Usage: npm run bench:ocr-pages -- [--workers 1] [--rounds 2] [--fixtures 1,2,…] [--smoke] [--out FILE]
import { recognizeDocument } from '../activities/ocr-document';
import { TesseractPool } from '../activities/ocr-pool';
import { sniffMediaType } from '../core/domain/document-types';
import { expectedInvoices, fixture } from '../test/support/document-samples';
import * as bench from './bench-support';

const NAME = 'ocr-pages';
const LIMITS = {
  maxDimension: 2500,
  maxPixels: 40_000_000,
  pdfDpi: 200,
  maxPages: 50,
  maxResultBytes: 262_144,
  pageTimeoutMs: 60_000,
};

bench.runBench(async (defer) => {
  const all = expectedInvoices().map((invoice) => invoice.file);
  const { opts, mode } = bench.benchOptions(
    { workers: 1, rounds: 2, fixtures: all.map((_, i) => i + 1) },
    // One image (tesseract.js) and the text PDF (poppler): both of the pipeline's paths.
    { workers: 1, rounds: 1, fixtures: [1, all.length] },
  );
  const files = opts.fixtures.map((position) => {
    const file = all[position - 1];
    if (!file) throw new Error(`--fixtures: there are ${all.length} fixtures, not ${position}`);
    return file;
  });
  const started = Date.now();
  const pool = new TesseractPool({ workers: opts.workers, recyclePages: 1000 });
  defer(() => pool.close());
  const read = async (file: string) => {
    bench.throwIfInterrupted();
    const bytes = fixture(file);
    const mediaType = sniffMediaType(bytes);
    if (!mediaType) throw new Error(`${file}: not a document`);
    const t0 = Date.now();
    const result = await recognizeDocument(pool, bytes, mediaType, LIMITS);
    return { ms: Date.now() - t0, result };
  };
  await read(files[0] ?? '');
  const warmupMs = Date.now() - started;
  process.stdout.write(`workers ${opts.workers}, warm-up incl. worker start ${warmupMs} ms\n\n`);
  process.stdout.write(
    '| file | pages | source | ms per document (median) | ms per page |\n|---|---|---|---|---|\n',
  );
  const rows = [];
  for (const file of files) {
    const runs = [];
    for (let i = 0; i < opts.rounds; i++) runs.push(await read(file));
    const runsMs = runs.map((run) => run.ms);
    const median = [...runsMs].sort((a, b) => a - b)[Math.floor(runsMs.length / 2)] ?? 0;
    const { result } = runs[0] ?? (await read(file));
    const sources = [...new Set(result.pages.map((page) => page.source))].join('+');
    const msPerPage = Math.round(median / result.pageCount);
    rows.push({ file, pages: result.pageCount, sources, medianMs: median, msPerPage, runsMs });
    process.stdout.write(`| ${file} | ${result.pageCount} | ${sources} | ${median} | ${msPerPage} |\n`);
  }
  const machine = await bench.describeMachine(null, 'not used');
  const date = new Date().toISOString();
  return bench.publish(
    NAME,
    mode,
    [],
    { date, machine, options: opts, limits: LIMITS, warmupMs, rows },
    null,
  );
}, 3_600_000);
