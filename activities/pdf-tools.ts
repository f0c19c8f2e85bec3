import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// PDFs through Debian's poppler-utils (pdfinfo, pdftotext, pdftoppm; scripts/install-ocr-deps.sh):
// mature C code, run as child processes with a timeout, so a hostile PDF cannot hang or crash us.

const run = promisify(execFile);
/** How long one tool may run on one file (or one page, for pdftoppm) unless the caller says. */
export const PDF_TOOL_TIMEOUT_MS = 60_000;

/** The PDF could not be read: a verdict on the file, not a passing failure. */
export class UnreadablePdfError extends Error {
  override name = 'UnreadablePdfError';
}

/**
 * A tool ran past its timeout on this file. A verdict on the file too: a page that takes minutes to
 * draw is hostile or broken, and another attempt (or another module) would spend the same minutes.
 */
export class PdfTimedOutError extends Error {
  override name = 'PdfTimedOutError';
}

async function tool(
  command: string,
  args: string[],
  timeoutMs = PDF_TOOL_TIMEOUT_MS,
  what = '',
): Promise<Buffer> {
  try {
    const { stdout } = await run(command, args, {
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'buffer',
    });
    return stdout;
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stderr?: Buffer; killed?: boolean };
    if (failure.code === 'ENOENT') {
      throw new Error(`${command} is not installed (run scripts/install-ocr-deps.sh)`);
    }
    if (failure.killed) throw new PdfTimedOutError(`${command} took longer than ${timeoutMs} ms${what}`);
    const stderr = failure.stderr?.toString('utf8').trim().split('\n').slice(0, 3).join('; ');
    throw new UnreadablePdfError(stderr || failure.message);
  }
}

/** A PDF on disk for the length of `use`: poppler reads files, the store may not be a directory. */
export async function withPdfFile<T>(bytes: Buffer, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rpa-pdf-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await writeFile(file, bytes);
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function pdfPageCount(file: string): Promise<number> {
  const info = (await tool('pdfinfo', [file])).toString('utf8');
  const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
  if (!Number.isInteger(pages) || pages < 1) throw new UnreadablePdfError('pdfinfo reports no pages');
  return pages;
}

/** A page's MediaBox in points: what pdftoppm renders (it crops to the CropBox only when told). */
export interface PdfPageSize {
  page: number;
  widthPt: number;
  heightPt: number;
}

/** The MediaBox of pages 1..`pages`, from pdfinfo: read from the file's objects, nothing drawn. */
export async function pdfPageSizes(file: string, pages: number): Promise<PdfPageSize[]> {
  const info = (await tool('pdfinfo', ['-box', '-f', '1', '-l', String(pages), file])).toString('utf8');
  const sizes: PdfPageSize[] = [];
  const mediaBox = /^Page\s+(\d+) MediaBox:\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$/gm;
  for (const match of info.matchAll(mediaBox)) {
    const [x0, y0, x1, y1] = match.slice(2, 6).map(Number) as [number, number, number, number];
    sizes.push({ page: Number(match[1]), widthPt: Math.abs(x1 - x0), heightPt: Math.abs(y1 - y0) });
  }
  if (sizes.length !== pages) {
    throw new UnreadablePdfError(`pdfinfo reports the size of ${sizes.length} of ${pages} pages`);
  }
  return sizes;
}

/** The text layer, one string per page (pdftotext separates pages with form feeds). */
export async function pdfPageTexts(file: string, pages: number): Promise<string[]> {
  const text = (
    await tool('pdftotext', ['-layout', '-enc', 'UTF-8', '-l', String(pages), file, '-'])
  ).toString('utf8');
  return text.split('\f').slice(0, pages);
}

/** One page rendered to a grayscale PNG at `dpi`, in at most `timeoutMs`. */
export async function renderPdfPage(
  file: string,
  page: number,
  dpi: number,
  timeoutMs = PDF_TOOL_TIMEOUT_MS,
): Promise<Buffer> {
  const prefix = path.join(path.dirname(file), `page-${page}`);
  await tool(
    'pdftoppm',
    ['-r', String(dpi), '-gray', '-png', '-singlefile', '-f', String(page), '-l', String(page), file, prefix],
    timeoutMs,
    ` on page ${page}`,
  );
  const out = `${prefix}.png`;
  try {
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
  }
}
