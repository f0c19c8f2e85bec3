import { type DocumentMediaType, isImage } from '../core/domain/document-types';
import { ocrPageDuration, ocrPages } from '../core/observability/metrics';
import type { Box, OcrEngine, RecognizedLine } from './ocr-pool';
import { imagePageCount, imagePageSizes, preparePage } from './page-images';
import {
  type PdfPageSize,
  pdfPageCount,
  pdfPageSizes,
  pdfPageTexts,
  renderPdfPage,
  withPdfFile,
} from './pdf-tools';

// What the `ocr` step returns. It lives in workflow history and in robots.output_data, so it is
// compact: words are tuples, confidences integers 0–100, and words are dropped past a size budget.

/** [text, confidence, x0, y0, x1, y1] in the pixels of the page image (the original for images). */
export type OcrWord = [string, number, number, number, number, number];

export interface OcrLine {
  text: string;
  confidence: number;
  /** Null for text read from a PDF's text layer (no geometry is kept for it). */
  box: Box | null;
  words?: OcrWord[];
}

export interface OcrPage {
  page: number;
  /** `text-layer`: read from the PDF itself; `ocr`: recognised from pixels. */
  source: 'ocr' | 'text-layer';
  confidence: number;
  ms: number;
  lines: OcrLine[];
}

export interface OcrResult {
  mediaType: DocumentMediaType;
  text: string;
  confidence: number;
  pageCount: number;
  pages: OcrPage[];
  /** True when word boxes were left out to keep the result under the size budget. */
  wordsOmitted: boolean;
}

export interface OcrLimits {
  maxDimension: number;
  maxPixels: number;
  pdfDpi: number;
  maxPages: number;
  /** Serialised size above which word-level detail is dropped (lines stay). */
  maxResultBytes: number;
  /** How long pdftoppm may take to render one page (OCR_PAGE_TIMEOUT_SECONDS). */
  pageTimeoutMs: number;
}

export class DocumentTooLongError extends Error {
  override name = 'DocumentTooLongError';
}

/** A page declares more pixels than DOCUMENT_MAX_PIXELS: refused from its header, never rendered. */
export class PageTooLargeError extends Error {
  override name = 'PageTooLargeError';
}

const POINTS_PER_INCH = 72;

/** Refuses the first PDF page whose MediaBox, rendered at `dpi`, has more than `maxPixels` pixels. */
function checkPdfPageSizes(sizes: PdfPageSize[], dpi: number, maxPixels: number): void {
  for (const { page, widthPt, heightPt } of sizes) {
    // pdftoppm's own arithmetic: ceil(points × dpi / 72) pixels a side.
    const width = Math.ceil((widthPt * dpi) / POINTS_PER_INCH);
    const height = Math.ceil((heightPt * dpi) / POINTS_PER_INCH);
    if (width * height > maxPixels) {
      throw new PageTooLargeError(
        `page ${page} is ${widthPt} × ${heightPt} pt: ${width} × ${height} px at ${dpi} dpi, ` +
          `more than the limit of ${maxPixels} pixels`,
      );
    }
  }
}

function checkImagePageSizes(sizes: { width: number; height: number }[], maxPixels: number): void {
  sizes.forEach(({ width, height }, i) => {
    if (width * height > maxPixels) {
      throw new PageTooLargeError(
        `page ${i + 1} is ${width} × ${height} px, more than the limit of ${maxPixels} pixels`,
      );
    }
  });
}

/** A PDF page with at least this many letters or digits in its text layer is not OCRed. */
const TEXT_LAYER_MIN_CHARS = 16;

const scaleBox = (box: Box, scale: number): Box => box.map((v) => Math.round(v / scale)) as Box;

function toLines(lines: RecognizedLine[], scale: number): OcrLine[] {
  return lines.map((line) => ({
    text: line.text,
    confidence: line.confidence,
    box: scaleBox(line.box, scale),
    words: line.words.map((word): OcrWord => [word.text, word.confidence, ...scaleBox(word.box, scale)]),
  }));
}

const mean = (values: number[]) =>
  values.length === 0 ? 0 : Math.round(values.reduce((sum, v) => sum + v, 0) / values.length);

async function ocrImage(
  engine: OcrEngine,
  bytes: Buffer,
  limits: OcrLimits,
  page: number,
  tiffPage?: number,
): Promise<OcrPage> {
  const started = Date.now();
  const endTimer = ocrPageDuration.startTimer();
  try {
    const prepared = await preparePage(bytes, {
      maxDimension: limits.maxDimension,
      maxPixels: limits.maxPixels,
      ...(tiffPage !== undefined ? { page: tiffPage } : {}),
    });
    const recognized = await engine.recognize(prepared.png);
    const lines = toLines(recognized.lines, prepared.scale);
    endTimer();
    ocrPages.inc({ source: 'ocr', outcome: 'ok' });
    return { page, source: 'ocr', confidence: recognized.confidence, ms: Date.now() - started, lines };
  } catch (err) {
    ocrPages.inc({ source: 'ocr', outcome: 'error' });
    throw err;
  }
}

/** The lines of a PDF page's text layer (pdftotext -layout), blank lines dropped. */
export function textLayerLines(text: string): OcrLine[] {
  return (
    text
      .split('\n')
      // trimEnd, not replace(/\s+$/): that regex retries from every space of a run that does not end
      // the line, quadratic in the run (a 100 kB run took about a minute).
      .map((line) => line.trimEnd())
      .filter((line) => line !== '')
      .map((line): OcrLine => ({ text: line.replace(/\s{2,}/g, '  ').trim(), confidence: 100, box: null }))
  );
}

function textLayerPage(page: number, text: string): OcrPage {
  const lines = textLayerLines(text);
  ocrPages.inc({ source: 'text_layer', outcome: 'ok' });
  return { page, source: 'text-layer', confidence: 100, ms: 0, lines };
}

/**
 * Text of every page: a PDF page with a text layer is read, any other page is rendered (PDF,
 * pdftoppm) or prepared (image, sharp) and recognised. `onPage` is called after each page.
 */
export async function recognizeDocument(
  engine: OcrEngine,
  bytes: Buffer,
  mediaType: DocumentMediaType,
  limits: OcrLimits,
  onPage: (done: number, total: number) => void = () => undefined,
): Promise<OcrResult> {
  const pages: OcrPage[] = [];
  const tooLong = (count: number) =>
    new DocumentTooLongError(`the document has ${count} pages; at most ${limits.maxPages} are read`);

  if (isImage(mediaType)) {
    const count = mediaType === 'image/tiff' ? await imagePageCount(bytes) : 1;
    if (count > limits.maxPages) throw tooLong(count);
    // Every page's header before the first is read: a poison page at the end costs no OCR before it.
    checkImagePageSizes(await imagePageSizes(bytes, count), limits.maxPixels);
    for (let i = 0; i < count; i++) {
      pages.push(await ocrImage(engine, bytes, limits, i + 1, mediaType === 'image/tiff' ? i : undefined));
      onPage(i + 1, count);
    }
  } else {
    await withPdfFile(bytes, async (file) => {
      const count = await pdfPageCount(file);
      if (count > limits.maxPages) throw tooLong(count);
      const texts = await pdfPageTexts(file, count);
      const hasText = (i: number) =>
        ((texts[i] ?? '').match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= TEXT_LAYER_MIN_CHARS;
      // Only pages that will be rendered are held to the pixel limit (a huge page with a text layer
      // is read, not drawn), and all of them before the first is drawn.
      const sizes = await pdfPageSizes(file, count);
      checkPdfPageSizes(
        sizes.filter((_size, i) => !hasText(i)),
        limits.pdfDpi,
        limits.maxPixels,
      );
      for (let i = 0; i < count; i++) {
        const text = texts[i] ?? '';
        if (hasText(i)) {
          pages.push(textLayerPage(i + 1, text));
        } else {
          const rendered = await renderPdfPage(file, i + 1, limits.pdfDpi, limits.pageTimeoutMs);
          pages.push(await ocrImage(engine, rendered, limits, i + 1));
        }
        onPage(i + 1, count);
      }
    });
  }

  const result: OcrResult = {
    mediaType,
    text: pages.map((page) => page.lines.map((line) => line.text).join('\n')).join('\n\f\n'),
    confidence: mean(pages.map((page) => page.confidence)),
    pageCount: pages.length,
    pages,
    wordsOmitted: false,
  };
  if (Buffer.byteLength(JSON.stringify(result)) > limits.maxResultBytes) {
    for (const page of pages) for (const line of page.lines) delete line.words;
    result.wordsOmitted = true;
  }
  return result;
}
