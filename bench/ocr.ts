// OCR time per page on this machine: each committed fixture read `--rounds` times through the
// real pipeline (sharp preparation, poppler for PDFs, tesseract.js with `--workers` workers),
// after one warm-up round that also starts the workers. Prints a table; no Temporal, no database.
// Usage: npx tsx bench/ocr.ts [--workers 1] [--rounds 2]
import { recognizeDocument } from '../activities/ocr-document';
import { TesseractPool } from '../activities/ocr-pool';
import { sniffMediaType } from '../core/document-types';
import { expectedInvoices, fixture } from '../test/support/document-samples';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const workers = option('workers', 1);
  const rounds = option('rounds', 2);
  const limits = {
    maxDimension: 2500,
    maxPixels: 40_000_000,
    pdfDpi: 200,
    maxPages: 50,
    maxResultBytes: 262_144,
  };
  const started = Date.now();
  const pool = new TesseractPool({ workers, recyclePages: 1000 });
  try {
    const files = expectedInvoices().map((invoice) => invoice.file);
    const read = async (file: string) => {
      const bytes = fixture(file);
      const mediaType = sniffMediaType(bytes);
      if (!mediaType) throw new Error(`${file}: not a document`);
      const t0 = Date.now();
      const result = await recognizeDocument(pool, bytes, mediaType, limits);
      return { ms: Date.now() - t0, result };
    };
    await read(files[0] ?? '');
    process.stdout.write(`workers ${workers}, warm-up incl. worker start ${Date.now() - started} ms\n\n`);
    process.stdout.write(
      '| file | pages | source | ms per document (median) | ms per page |\n|---|---|---|---|---|\n',
    );
    for (const file of files) {
      const runs = [];
      for (let i = 0; i < rounds; i++) runs.push(await read(file));
      const sorted = runs.map((run) => run.ms).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
      const { result } = runs[0] ?? (await read(file));
      const sources = [...new Set(result.pages.map((page) => page.source))].join('+');
      process.stdout.write(
        `| ${file} | ${result.pageCount} | ${sources} | ${median} | ${Math.round(median / result.pageCount)} |\n`,
      );
    }
  } finally {
    await pool.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
