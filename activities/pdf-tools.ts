import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// PDFs through Debian's poppler-utils (pdfinfo, pdftotext, pdftoppm; scripts/install-ocr-deps.sh):
// mature C code, run as child processes with a timeout, so a hostile PDF cannot hang or crash us.

const run = promisify(execFile);
const TIMEOUT_MS = 60_000;

/** The PDF could not be read: a verdict on the file, not a passing failure. */
export class UnreadablePdfError extends Error {
  override name = 'UnreadablePdfError';
}

async function tool(command: string, args: string[]): Promise<Buffer> {
  try {
    const { stdout } = await run(command, args, {
      timeout: TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      encoding: 'buffer',
    });
    return stdout;
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { stderr?: Buffer; killed?: boolean };
    if (failure.code === 'ENOENT') {
      throw new Error(`${command} is not installed (run scripts/install-ocr-deps.sh)`);
    }
    if (failure.killed) throw new Error(`${command} took longer than ${TIMEOUT_MS} ms`);
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

/** The text layer, one string per page (pdftotext separates pages with form feeds). */
export async function pdfPageTexts(file: string, pages: number): Promise<string[]> {
  const text = (
    await tool('pdftotext', ['-layout', '-enc', 'UTF-8', '-l', String(pages), file, '-'])
  ).toString('utf8');
  return text.split('\f').slice(0, pages);
}

/** One page rendered to a grayscale PNG at `dpi`. */
export async function renderPdfPage(file: string, page: number, dpi: number): Promise<Buffer> {
  const prefix = path.join(path.dirname(file), `page-${page}`);
  await tool('pdftoppm', [
    '-r',
    String(dpi),
    '-gray',
    '-png',
    '-singlefile',
    '-f',
    String(page),
    '-l',
    String(page),
    file,
    prefix,
  ]);
  const out = `${prefix}.png`;
  try {
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
  }
}
